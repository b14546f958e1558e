"""Shadow comparison: pair the primary's and the shadow's answers to the same request.

In a shadow rollout the ingress answers with the primary version and sends a copy of
mirrored requests to the shadow version, whose answers are never returned. Both answers
come back asynchronously, in either order, so a :class:`ShadowComparator` keeps the first
one of each request id until the other arrives, within a time-to-live (``ttl_s``) and a
bound on pending entries (``max_pending``, oldest evicted first); requests that never
pair are counted as expired or evicted per side, and repeated ids as duplicates.

For every pair it compares the predictions element-wise (one per instance):

* agreement: classification labels agree when equal; regression values when
  ``|primary - shadow| <= tolerance`` (non-finite values never agree);
* prediction distributions: a :class:`~raymlops.sketches.CategoricalSketch` of labels
  (classification) or a :class:`~raymlops.sketches.NumericSketch` of values
  (regression) per side, and the Jensen-Shannon distance between them (base 2, so in
  [0, 1]) from the one statistics format (:mod:`raymlops.sketches.distances`): on the
  label counts of both sides (``category_counts``), or for regression on the counts of
  both sides in the primary's ``bins`` quantile bins (``binned_counts``, the bins the
  drift monitor uses too). Binning matters: on the raw 1 % buckets two samples of the
  *same* distribution would already be far apart by sampling noise alone. Shadow values
  beyond the primary's extremes fall in its first or last bin;
* latency: a NumericSketch of each side's latency in ms (every arrival), p50 and p99;
* shadow errors: shadow calls that raised (reported with ``error=True``).

Statistics merge across replicas by addition (:meth:`ShadowComparator.merge`), the
sketches exactly. :meth:`ShadowComparator.to_dict` carries the completed statistics, not
the pending entries (they stay with the replica until they pair or expire).

Example:
    >>> c = ShadowComparator(task="classification", ttl_s=30)
    >>> c.add_primary("r1", ["cat", "dog"], now=0.0, latency_ms=12.0)
    False
    >>> c.add_shadow("r1", ["cat", "cat"], now=0.1, latency_ms=15.0)
    True
    >>> c.add_shadow("r2", ["dog"], now=0.2)
    False
    >>> c.expire(now=60.0)
    1
    >>> s = c.summary()
    >>> s["agreement"], s["pairs"], s["unmatched"]["expired_shadow"], round(s["distance"], 4)
    (0.5, 1, 1, 0.5579)
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

import numpy as np

from raymlops.core.errors import InvalidInputError
from raymlops.core.values import py
from raymlops.serving._checks import moment
from raymlops.sketches import CategoricalSketch, NumericSketch
from raymlops.sketches.distances import binned_counts, category_counts, jensenshannon

__all__ = ["TASKS", "ShadowComparator"]

TASKS = ("classification", "regression")
_SIDES = ("primary", "shadow")
_MAX_CLASSES = 100_000


class _Pending(NamedTuple):
    side: str  # "primary" or "shadow"
    time: float
    predictions: list[Any] | None  # None for a shadow error
    error: bool


def _as_list(predictions: Any) -> list[Any]:
    if isinstance(predictions, np.ndarray):
        return [py(x) for x in predictions.ravel().tolist()]
    if hasattr(predictions, "to_numpy") and not isinstance(predictions, (str, bytes)):
        return _as_list(predictions.to_numpy())
    if isinstance(predictions, (list, tuple)):
        return [py(x) for x in predictions]
    return [py(predictions)]


def _float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan




class ShadowComparator:
    """Pairs primary and shadow predictions by request id and compares them.

    Args:
        task: ``"classification"`` (labels) or ``"regression"`` (numbers).
        tolerance: regression values agree when ``|primary - shadow| <= tolerance``.
        ttl_s: an answer waits at most this long for its pair.
        max_pending: the most answers waiting; beyond it the oldest is evicted.
        relative_accuracy: of the latency and regression sketches.
        bins: for regression, the number of quantile bins of the primary's predictions the
            distance is computed on (at least 2; see
            :func:`~raymlops.sketches.distances.binned_counts`).

    Call :meth:`add_primary` only for requests that were mirrored, or every unmirrored
    request counts as an expired primary.
    """

    _COUNTERS: ClassVar[tuple[str, ...]] = (
        "pairs", "compared", "agree", "duplicates", "shadow_errors", "length_mismatches",
        "expired_primary", "expired_shadow", "evicted_primary", "evicted_shadow",
    )  # fmt: skip

    def __init__(
        self,
        *,
        task: str = "classification",
        tolerance: float = 0.0,
        ttl_s: float = 60.0,
        max_pending: int = 10_000,
        relative_accuracy: float = 0.01,
        bins: int = 20,
    ):
        if task not in TASKS:
            raise InvalidInputError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
        for name, v in (("tolerance", tolerance), ("ttl_s", ttl_s)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise InvalidInputError(f"{name} must be a non-negative number, got {v!r}")
        if isinstance(max_pending, bool) or not isinstance(max_pending, int) or max_pending < 1:
            raise InvalidInputError(f"max_pending must be a positive integer, got {max_pending!r}")
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
            raise InvalidInputError(f"bins must be an integer of at least 2, got {bins!r}")
        self.task = task
        self.tolerance = float(tolerance)
        self.ttl_s = float(ttl_s)
        self.max_pending = max_pending
        self.relative_accuracy = float(relative_accuracy)
        self.bins = bins
        self._pending: OrderedDict[str, _Pending] = OrderedDict()
        self._reset_stats()

    def _reset_stats(self) -> None:
        for name in self._COUNTERS:
            setattr(self, f"_{name}", 0)
        acc = self.relative_accuracy
        self._latency = {side: NumericSketch(relative_accuracy=acc) for side in _SIDES}
        self._dist: dict[str, CategoricalSketch | NumericSketch]
        if self.task == "classification":
            self._dist = {side: CategoricalSketch(max_categories=_MAX_CLASSES) for side in _SIDES}
        else:
            self._dist = {side: NumericSketch(relative_accuracy=acc) for side in _SIDES}

    # -- input
    def add_primary(self, request_id: str, predictions: Any, *, now: float, latency_ms: float | None = None) -> bool:
        """The primary's predictions for a mirrored request.

        Returns:
            True when this completed a pair.
        """
        return self._add("primary", request_id, _as_list(predictions), now, latency_ms, False)

    def add_shadow(
        self,
        request_id: str,
        predictions: Any = None,
        *,
        now: float,
        latency_ms: float | None = None,
        error: bool = False,
    ) -> bool:
        """The shadow's predictions for a mirrored request, or ``error=True`` when the call failed.

        Returns:
            True when this completed a pair.
        """
        preds = None if error else _as_list(predictions)
        return self._add("shadow", request_id, preds, now, latency_ms, bool(error))

    def _add(self, side: str, request_id: str, preds: list[Any] | None, now: Any, latency_ms: Any, error: bool) -> bool:
        now = moment(now)
        if not isinstance(request_id, str):
            raise InvalidInputError(f"request_id must be a string, got {request_id!r}")
        if latency_ms is not None:
            self._latency[side].update([float(latency_ms)])
        if error:
            self._shadow_errors += 1
        self.expire(now)
        return self._insert(request_id, _Pending(side, now, preds, error))

    def _insert(self, request_id: str, entry: _Pending) -> bool:
        other = self._pending.get(request_id)
        if other is not None and other.side != entry.side:
            del self._pending[request_id]
            self._pair(*((other, entry) if entry.side == "shadow" else (entry, other)))
            return True
        if other is not None:
            self._duplicates += 1
            return False
        self._pending[request_id] = entry
        while len(self._pending) > self.max_pending:
            _, old = self._pending.popitem(last=False)
            setattr(self, f"_evicted_{old.side}", getattr(self, f"_evicted_{old.side}") + 1)
        return False

    def _pair(self, primary: _Pending, shadow: _Pending) -> None:
        self._pairs += 1
        if shadow.error:
            return
        p, s = primary.predictions or [], shadow.predictions or []
        if len(p) != len(s):
            self._length_mismatches += 1
            return
        self._compared += len(p)
        if self.task == "classification":
            self._agree += sum(1 for a, b in zip(p, s) if a == b)
            self._dist["primary"].update(p)
            self._dist["shadow"].update(s)
        else:
            pf, sf = np.array([_float(x) for x in p]), np.array([_float(x) for x in s])
            with np.errstate(invalid="ignore"):
                self._agree += int(np.count_nonzero(np.abs(pf - sf) <= self.tolerance))
            self._dist["primary"].update(pf)
            self._dist["shadow"].update(sf)

    def expire(self, now: float) -> int:
        """Drop answers that waited ``ttl_s`` or longer for their pair (oldest arrivals first).

        Returns:
            How many expired.
        """
        now = moment(now)
        n = 0
        while self._pending:
            rid, entry = next(iter(self._pending.items()))
            if now - entry.time < self.ttl_s:
                break
            del self._pending[rid]
            setattr(self, f"_expired_{entry.side}", getattr(self, f"_expired_{entry.side}") + 1)
            n += 1
        return n

    # -- results
    @property
    def pending(self) -> int:
        """Answers waiting for their pair."""
        return len(self._pending)

    @property
    def pairs(self) -> int:
        return self._pairs

    @property
    def compared(self) -> int:
        """Predictions compared (one per instance of every pair without an error or length mismatch)."""
        return self._compared

    @property
    def agree(self) -> int:
        return self._agree

    @property
    def agreement(self) -> float | None:
        """``agree / compared``; None before any comparison."""
        return self._agree / self._compared if self._compared else None

    @property
    def shadow_errors(self) -> int:
        return self._shadow_errors

    def distance(self) -> float | None:
        """The Jensen-Shannon distance (base 2, in [0, 1]) between the two sides' predictions; None without data.

        Classification: on the label counts of both sides
        (:func:`~raymlops.sketches.distances.category_counts`). Regression: on the counts of
        both sides in the primary's ``bins`` quantile bins
        (:func:`~raymlops.sketches.distances.binned_counts`).
        """
        a, b = self._dist["primary"], self._dist["shadow"]
        if isinstance(a, CategoricalSketch):
            _, p, q = category_counts(a, b)
        elif a.count and b.count:  # type: ignore[union-attr]
            _, p, q = binned_counts(a, b, bins=self.bins)
        else:
            return None
        if p.sum() == 0 or q.sum() == 0:
            return None
        return jensenshannon(p, q, base=2)

    def latency(self) -> dict[str, Any]:
        """p50 and p99 latency (ms) of each side, and the shadow's minus the primary's."""
        out: dict[str, Any] = {}
        for side, sk in self._latency.items():
            has = sk.count > 0
            out[side] = {
                "count": sk.count,
                "p50": sk.quantile(0.5) if has else None,
                "p99": sk.quantile(0.99) if has else None,
            }
        for q in ("p50", "p99"):
            a, b = out["primary"][q], out["shadow"][q]
            out[f"{q}_diff"] = None if a is None or b is None else b - a
        return out

    def agreement_counts(self) -> tuple[int, int]:
        """``(agree, compared)``, for :meth:`raymlops.serving.gates.VersionStats.record_shadow`."""
        return self._agree, self._compared

    def summary(self) -> dict[str, Any]:
        """The numbers for a status page or a gate (JSON-serialisable)."""
        return {
            "task": self.task,
            "pairs": self._pairs,
            "compared": self._compared,
            "agree": self._agree,
            "agreement": self.agreement,
            "distance": self.distance(),
            "pending": self.pending,
            "unmatched": {
                name: getattr(self, f"_{name}")
                for name in ("expired_primary", "expired_shadow", "evicted_primary", "evicted_shadow")
            },
            "duplicates": self._duplicates,
            "shadow_errors": self._shadow_errors,
            "length_mismatches": self._length_mismatches,
            "latency_ms": self.latency(),
        }

    # -- merging and serialisation
    def _check_mergeable(self, other: Any) -> None:
        if not isinstance(other, ShadowComparator):
            raise InvalidInputError(f"cannot merge a ShadowComparator with {type(other).__name__}")
        mine = (self.task, self.tolerance, self.relative_accuracy, self.bins)
        theirs = (other.task, other.tolerance, other.relative_accuracy, other.bins)
        if mine != theirs:
            raise InvalidInputError(
                "cannot merge comparators with different (task, tolerance, relative_accuracy, bins): "
                f"{mine} vs {theirs}"
            )

    def merge_inplace(self, other: ShadowComparator) -> ShadowComparator:
        """Add ``other``'s statistics (and, in-process, its pending answers, pairing them) into this one."""
        self._check_mergeable(other)
        for name in self._COUNTERS:
            setattr(self, f"_{name}", getattr(self, f"_{name}") + getattr(other, f"_{name}"))
        for side in ("primary", "shadow"):
            self._latency[side].merge_inplace(other._latency[side])
            self._dist[side].merge_inplace(other._dist[side])  # type: ignore[arg-type]
        for rid, entry in list(other._pending.items()):
            self._insert(rid, entry)
        return self

    def merge(self, other: ShadowComparator) -> ShadowComparator:
        """A new comparator with the statistics of both."""
        self._check_mergeable(other)
        return self.copy().merge_inplace(other)

    def __iadd__(self, other: ShadowComparator) -> ShadowComparator:
        return self.merge_inplace(other)

    def __add__(self, other: ShadowComparator) -> ShadowComparator:
        return self.merge(other)

    def copy(self) -> ShadowComparator:
        new = ShadowComparator.from_dict(self.to_dict())
        new._pending = OrderedDict(self._pending)
        return new

    def flush(self) -> dict[str, Any]:
        """:meth:`to_dict` of the statistics so far, then reset them (pending answers stay).

        A replica flushes periodically; the monitor merges the flushed dicts.
        """
        out = self.to_dict()
        self._reset_stats()
        return out

    def to_dict(self) -> dict[str, Any]:
        """The configuration and completed statistics (not the pending answers), JSON-serialisable."""
        return {
            "task": self.task,
            "tolerance": self.tolerance,
            "ttl_s": self.ttl_s,
            "max_pending": self.max_pending,
            "relative_accuracy": self.relative_accuracy,
            "bins": self.bins,
            "counters": {name: getattr(self, f"_{name}") for name in self._COUNTERS},
            "latency_ms": {side: sk.to_dict() for side, sk in self._latency.items()},
            "predictions": {side: sk.to_dict() for side, sk in self._dist.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShadowComparator:
        """Rebuild from :meth:`to_dict` output (with no pending answers).

        Raises:
            InvalidInputError: on an invalid dict.
        """
        keys = {
            "task", "tolerance", "ttl_s", "max_pending", "relative_accuracy", "bins", "counters", "latency_ms",
            "predictions",
        }  # fmt: skip
        if not isinstance(data, Mapping) or set(data) != keys:
            raise InvalidInputError(f"a ShadowComparator dict has exactly the keys {sorted(keys)}")
        new = cls(
            task=data["task"], tolerance=data["tolerance"], ttl_s=data["ttl_s"], max_pending=data["max_pending"],
            relative_accuracy=data["relative_accuracy"], bins=data["bins"],
        )  # fmt: skip
        counters = data["counters"]
        if not isinstance(counters, Mapping) or set(counters) != set(cls._COUNTERS):
            raise InvalidInputError(f"counters must have exactly the keys {sorted(cls._COUNTERS)}")
        for name in cls._COUNTERS:
            v = counters[name]
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise InvalidInputError(f"counter {name!r} must be a non-negative integer, got {v!r}")
            setattr(new, f"_{name}", v)
        sketch_cls = CategoricalSketch if new.task == "classification" else NumericSketch
        for side in ("primary", "shadow"):
            new._latency[side] = NumericSketch.from_dict(data["latency_ms"][side])
            new._dist[side] = sketch_cls.from_dict(data["predictions"][side])
        return new

    def __eq__(self, other: object) -> bool:
        """Same configuration and statistics (pending answers are not compared)."""
        if not isinstance(other, ShadowComparator):
            return NotImplemented
        a, b = self.to_dict(), other.to_dict()
        same_sketches = all(
            self._latency[s] == other._latency[s] and self._dist[s] == other._dist[s] for s in ("primary", "shadow")
        )
        strip = ("latency_ms", "predictions")
        return same_sketches and {k: v for k, v in a.items() if k not in strip} == {
            k: v for k, v in b.items() if k not in strip
        }

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ShadowComparator(task={self.task!r}, pairs={self._pairs}, agreement={self.agreement}, "
            f"pending={self.pending}, shadow_errors={self._shadow_errors})"
        )

