"""Shedding mirrored requests: a shadow is best-effort, the primary comes first.

Mirrored traffic is fire-and-forget (Envoy's request mirroring and Istio's shadowing
work so): a copy of a request goes to the shadow only while that costs the primary
nothing it needs. The ingress asks a :class:`MirrorShedder` before it mirrors a request
the routing table chose to mirror, and the shedder refuses, with a reason, when

* ``primary_saturated``: the model's primary requests in flight at this ingress (sent,
  not answered) are at ``primary_limit`` or more. By Little's law the requests in
  flight are the arrival rate times the latency, so at a steady rate they rise with
  the primary's queueing and, at saturation, grow without bound. A count needs no
  latency baseline, no warm-up and no clock, so the noise of a shared machine (where
  p99 moves by a fifth between minutes) neither sheds on a stall elsewhere nor waits
  for a learned baseline to catch up; see :func:`primary_limit_for`.
* ``shadow_queue_full``: the mirrored requests outstanding for the model's shadow
  (queued at the ingress or sent and not answered) are at ``max_outstanding`` or
  more: the shadow is slower than the mirrored rate, and queueing more only holds
  memory and sends work that arrives late.

The primary is checked first, so a request refused for both reasons counts once, as
``primary_saturated``. Every decision is counted per model in a :class:`ShedCounts`
(mirrored, dropped per reason), which merges by addition across ingress replicas like
the shadow comparison and surfaces as ``shadow.dropped`` and ``shadow.dropped_share``
in ``rollout status``.

Example:
    >>> s = MirrorShedder(max_outstanding=2, primary_limit=3)
    >>> s.primary_started("iris"); s.primary_started("iris")
    >>> s.admit("iris"), s.admit("iris"), s.admit("iris")
    (None, None, 'shadow_queue_full')
    >>> s.shadow_done("iris", 2)
    >>> s.primary_started("iris")
    >>> s.admit("iris")
    'primary_saturated'
    >>> s.counts["iris"].summary()
    {'mirrored': 2, 'dropped': {'primary_saturated': 1, 'shadow_queue_full': 1}, 'dropped_share': 0.5}
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import Any

from raymlops.core.errors import InvalidInputError

__all__ = ["SHED_REASONS", "MirrorShedder", "ShedCounts", "primary_limit_for"]

SHED_REASONS = ("primary_saturated", "shadow_queue_full")
"""Why a mirrored request was shed, in the order they are checked."""


def _count(v: Any, what: str, *, lo: int = 0) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise InvalidInputError(f"{what} must be an integer of at least {lo}, got {v!r}")
    return v


def primary_limit_for(max_ongoing_requests: int, fraction: float = 0.25) -> int:
    """The primary-saturation limit of one ingress: ``fraction`` of the primary's ``max_ongoing_requests``.

    Serve queues a replica's requests beyond ``max_ongoing_requests`` in the caller; a
    quarter of that in flight from one ingress is far past the few requests a model
    server that keeps up has in flight, and far below the hundreds a saturated one piles
    up. Raise it with more primary replicas behind one ingress.

    Example:
        >>> primary_limit_for(64), primary_limit_for(2)
        (16, 1)
    """
    _count(max_ongoing_requests, "max_ongoing_requests", lo=1)
    if not 0 < fraction <= 1:
        raise InvalidInputError(f"fraction must be in (0, 1], got {fraction!r}")
    return max(1, int(max_ongoing_requests * fraction))


class ShedCounts:
    """Mirrored and shed requests of one model, mergeable by addition.

    ``mirrored`` counts the requests sent to the shadow; ``dropped`` the ones shed, per
    reason (:data:`SHED_REASONS`). ``dropped_share`` is shed over chosen for mirroring
    (sent plus shed); None before any.

    Example:
        >>> a, b = ShedCounts(), ShedCounts()
        >>> a.record(None); a.record("primary_saturated"); b.record(None)
        >>> (a + b).summary()
        {'mirrored': 2, 'dropped': {'primary_saturated': 1, 'shadow_queue_full': 0}, 'dropped_share': 0.3333}
    """

    def __init__(self) -> None:
        self.mirrored = 0
        self.dropped: dict[str, int] = dict.fromkeys(SHED_REASONS, 0)

    def record(self, reason: str | None, n: int = 1) -> None:
        """``n`` requests mirrored (``reason`` None) or shed for ``reason``."""
        if reason is None:
            self.mirrored += n
        elif reason in self.dropped:
            self.dropped[reason] += n
        else:
            raise InvalidInputError(f"unknown shed reason {reason!r}: use one of {', '.join(SHED_REASONS)}")

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    @property
    def dropped_share(self) -> float | None:
        """Shed over chosen for mirroring; None before any request was chosen."""
        chosen = self.mirrored + self.dropped_total
        return self.dropped_total / chosen if chosen else None

    def __bool__(self) -> bool:
        return bool(self.mirrored or self.dropped_total)

    def summary(self) -> dict[str, Any]:
        """The figures for ``rollout status`` (``dropped_share`` rounded to 4 decimals)."""
        share = self.dropped_share
        return {
            "mirrored": self.mirrored,
            "dropped": dict(self.dropped),
            "dropped_share": None if share is None else round(share, 4),
        }

    def merge_inplace(self, other: ShedCounts) -> ShedCounts:
        if not isinstance(other, ShedCounts):
            raise InvalidInputError(f"cannot merge ShedCounts with {type(other).__name__}")
        self.mirrored += other.mirrored
        for reason, n in other.dropped.items():
            self.dropped[reason] += n
        return self

    def __add__(self, other: ShedCounts) -> ShedCounts:
        return ShedCounts.from_dict(self.to_dict()).merge_inplace(other)

    def to_dict(self) -> dict[str, Any]:
        return {"mirrored": self.mirrored, "dropped": dict(self.dropped)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShedCounts:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            InvalidInputError: on an invalid dict.
        """
        if not isinstance(data, Mapping) or set(data) != {"mirrored", "dropped"}:
            raise InvalidInputError("a ShedCounts dict has exactly the keys ['dropped', 'mirrored']")
        dropped = data["dropped"]
        if not isinstance(dropped, Mapping) or set(dropped) != set(SHED_REASONS):
            raise InvalidInputError(f"dropped must have exactly the keys {sorted(SHED_REASONS)}")
        new = cls()
        new.mirrored = _count(data["mirrored"], "mirrored")
        for reason in SHED_REASONS:
            new.dropped[reason] = _count(dropped[reason], f"dropped[{reason!r}]")
        return new

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ShedCounts):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ShedCounts(mirrored={self.mirrored}, dropped={self.dropped})"


class MirrorShedder:
    """Decides, per model, whether a mirrored request is sent or shed; counts both.

    The ingress reports the primary's calls (:meth:`primary_started`,
    :meth:`primary_done`) and the shadow's answers (:meth:`shadow_done`), and asks
    :meth:`admit` for every request the routing table chose to mirror.

    Args:
        max_outstanding: mirrored requests outstanding for a model's shadow (queued or
            in flight) at most; beyond, mirrors are shed as ``shadow_queue_full``.
        primary_limit: a model's primary requests in flight at this ingress at which it
            counts as saturated (see :func:`primary_limit_for`); mirrors are then shed as
            ``primary_saturated``.
    """

    def __init__(self, *, max_outstanding: int = 64, primary_limit: int = 16):
        self.max_outstanding = _count(max_outstanding, "max_outstanding", lo=1)
        self.primary_limit = _count(primary_limit, "primary_limit", lo=1)
        self.primary_inflight: collections.Counter[str] = collections.Counter()
        self.outstanding: collections.Counter[str] = collections.Counter()
        self.counts: dict[str, ShedCounts] = collections.defaultdict(ShedCounts)

    def primary_started(self, model: str) -> None:
        """A primary request of ``model`` was sent."""
        self.primary_inflight[model] += 1

    def primary_done(self, model: str) -> None:
        """A primary request of ``model`` answered (or failed)."""
        self.primary_inflight[model] = max(0, self.primary_inflight[model] - 1)

    def shed_reason(self, model: str) -> str | None:
        """Why a mirror of ``model`` would be shed now; None when it would be sent (nothing is counted)."""
        if self.primary_inflight[model] >= self.primary_limit:
            return "primary_saturated"
        if self.outstanding[model] >= self.max_outstanding:
            return "shadow_queue_full"
        return None

    def admit(self, model: str) -> str | None:
        """Decide on one mirrored request of ``model`` and count it.

        Returns:
            None when it is to be sent (it is then outstanding until :meth:`shadow_done`),
            else the reason it was shed.
        """
        reason = self.shed_reason(model)
        self.counts[model].record(reason)
        if reason is None:
            self.outstanding[model] += 1
        return reason

    def shadow_done(self, model: str, n: int = 1) -> None:
        """``n`` mirrored requests of ``model`` answered or failed."""
        self.outstanding[model] = max(0, self.outstanding[model] - n)

    def flush(self, model: str) -> dict[str, Any] | None:
        """``model``'s counts since the last flush as a :class:`ShedCounts` dict (then reset); None when nothing happened."""
        counts = self.counts.pop(model, None)
        return counts.to_dict() if counts else None

    def models(self) -> set[str]:
        """The models with counts not yet flushed."""
        return {m for m, c in self.counts.items() if c}

    def __repr__(self) -> str:
        return f"MirrorShedder(max_outstanding={self.max_outstanding}, primary_limit={self.primary_limit})"
