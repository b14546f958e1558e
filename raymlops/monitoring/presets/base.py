"""A preset is data: a name, the rules that type a column and pick its test, and what it follows.

``kind_of(reference, current, column_type, values)`` decides how a column is judged
(numeric, categorical, text, or not at all) from the raw values or sketches and, for
sketches, the column type a profile recorded. ``choose(data)`` looks at the prepared
column (:class:`~raymlops.monitoring.column_data.ColumnData`) and returns a
:class:`Choice`: the test's name (a key of :data:`~raymlops.monitoring.drift_tests.TESTS`),
whether count-based tests count each value of a few-valued numeric column, and the
reason, in words, that results report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from raymlops.monitoring.column_data import ColumnData, infer_kind
from raymlops.sketches import CategoricalSketch, NumericSketch

__all__ = ["Choice", "Kind", "Preset", "kind_by_dtype"]


class Kind(NamedTuple):
    """How a preset judges a column: ``numeric``, ``categorical``, ``text``, or None (not judged)."""

    kind: str | None
    reason: str


def kind_by_dtype(reference: Any, current: Any, column_type: str | None, values: Any) -> Kind:
    """Numbers (booleans too) are numeric, everything else categorical (the profiles' rule)."""
    side = current if isinstance(current, (NumericSketch, CategoricalSketch)) else reference
    return Kind(infer_kind(side), "")


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
        kind_of: how a column is judged (default: numbers numeric, the rest categorical).
    """

    name: str
    follows: str
    choose: Callable[[ColumnData], Choice]
    kind_of: Callable[[Any, Any, str | None, Any], Kind] = kind_by_dtype
