"""Aggregation of crowd labels: majority vote, Wawa and Dawid-Skene, one file each.

``METHODS`` maps the CLI's ``--method`` names to the classes; a new method is a new
file and one line here.

Example:
    >>> sorted(METHODS)
    ['ds', 'mv', 'wawa']
"""

from __future__ import annotations

from raymlops.core.errors import InvalidInputError
from raymlops.labeling.aggregate.base import AggregateResult, Aggregator, Summary, proba_column, spammer_scores
from raymlops.labeling.aggregate.dawid_skene import DawidSkene
from raymlops.labeling.aggregate.majority import MajorityVote
from raymlops.labeling.aggregate.wawa import Wawa

__all__ = [
    "AggregateResult",
    "Aggregator",
    "DawidSkene",
    "METHODS",
    "MajorityVote",
    "Summary",
    "Wawa",
    "make_aggregator",
    "proba_column",
    "spammer_scores",
]

METHODS: dict[str, type[Aggregator]] = {"mv": MajorityVote, "wawa": Wawa, "ds": DawidSkene}


def make_aggregator(method: str, **params: object) -> Aggregator:
    """An unfitted aggregator by its ``--method`` name.

    Raises:
        InvalidInputError: an unknown method.
    """
    if method not in METHODS:
        raise InvalidInputError(f"unknown aggregation method {method!r}: use one of {', '.join(METHODS)}")
    return METHODS[method](**params)
