"""A preset is data: a name, the rules that pick a test for a column, and what it follows.

``choose(data)`` looks at a prepared column (:class:`~raymlops.monitoring.column_data.ColumnData`)
and returns a :class:`Choice`: the test's name (a key of
:data:`~raymlops.monitoring.drift_tests.TESTS`), whether count-based tests count each value
of a few-valued numeric column, and the reason, in words, that results report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from raymlops.monitoring.column_data import ColumnData

__all__ = ["Choice", "Preset"]


class Choice(NamedTuple):
    """The test a preset picked for a column, and why."""

    test: str
    by_value: bool
    reason: str


class Preset(NamedTuple):
    """A named set of rules choosing one drift test per column.

    Attributes:
        name: what ``--preset`` and results call it.
        follows: whose behaviour it reproduces, for people.
        choose: the rules, from a prepared column to a :class:`Choice`.
    """

    name: str
    follows: str
    choose: Callable[[ColumnData], Choice]
