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
  (regression) per side, and the Jensen-Shannon distance between them
  (:func:`js_distance`, base 2, so in [0, 1]). For regression the sketches' DDSketch
  buckets (whose edges depend only on the relative accuracy, so both sides share them)
  are grouped into ``bins`` groups of about equal primary mass, plus one group each for
  shadow values below and above every primary value; group counts are exact sums of
  bucket counts. Grouping matters: on the raw 1 % buckets two samples of the *same*
  distribution would already be far apart by sampling noise alone;
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
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np

from raymlops.sketches import CategoricalSketch, NumericSketch
from raymlops.core.errors import InvalidInputError

__all__ = ["TASKS", "MirrorBatcher", "ShadowComparator", "js_distance"]

TASKS = ("classification", "regression")
_SIDES = ("primary", "shadow")
_MAX_CLASSES = 100_000


def js_distance(p: Sequence[float] | np.ndarray, q: Sequence[float] | np.ndarray) -> float:
    """The Jensen-Shannon distance (base 2, in [0, 1]) between two aligned count vectors.

    ``sqrt((KL(P || M) + KL(Q || M)) / 2)`` with ``P``, ``Q`` the normalised counts and
    ``M = (P + Q) / 2``; equals ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.

    Raises:
        InvalidInputError: on different lengths, negative counts, or an all-zero vector.

    Example:
        >>> js_distance([1, 0], [0, 1]), js_distance([3, 1], [6, 2])
        (1.0, 0.0)
    """
    a, b = np.asarray(p, dtype=np.float64).ravel(), np.asarray(q, dtype=np.float64).ravel()
    if a.shape != b.shape or (a < 0).any() or (b < 0).any() or a.sum() <= 0 or b.sum() <= 0:
        raise InvalidInputError("js_distance takes two aligned non-negative count vectors, each with a positive sum")
    a, b = a / a.sum(), b / b.sum()
    m = (a + b) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_a = np.where(a > 0, a * np.log2(a / m), 0.0).sum()
        kl_b = np.where(b > 0, b * np.log2(b / m), 0.0).sum()
    return float(math.sqrt(min(1.0, max(0.0, (kl_a + kl_b) / 2))))


class _Pending(NamedTuple):
    side: str  # "primary" or "shadow"
    time: float
    predictions: list[Any] | None  # None for a shadow error
    error: bool


def _time(now: Any) -> float:
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
        raise InvalidInputError(f"now must be a finite time in seconds, got {now!r}")
    return float(now)


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _as_list(predictions: Any) -> list[Any]:
    if isinstance(predictions, np.ndarray):
        return [_plain(x) for x in predictions.ravel().tolist()]
    if hasattr(predictions, "to_numpy") and not isinstance(predictions, (str, bytes)):
        return _as_list(predictions.to_numpy())
    if isinstance(predictions, (list, tuple)):
        return [_plain(x) for x in predictions]
    return [_plain(predictions)]


def _float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


class MirrorBatcher:
    """Mirrored requests queued per shadow version and sent several to a call.

    A shadow at 100% doubles the model's work, and on a busy machine most of a request's
    cost is the call itself (the handle, the replica's request handling), not the model.
    So the ingress queues mirrored requests and sends them in one call when ``max_batch``
    are queued or ``max_wait_s`` after the first (the ingress sets that timer when
    :meth:`add` says the queue was empty). The shadow's latency is then the latency of the
    call that carried a request, not counting its wait in the queue.

    Example:
        >>> b = MirrorBatcher(max_batch=3)
        >>> b.add(("iris", 2), "r1")
        (None, True)
        >>> b.add(("iris", 2), "r2")
        (None, False)
        >>> b.add(("iris", 2), "r3")
        (['r1', 'r2', 'r3'], False)
        >>> b.add(("iris", 2), "r4"), b.take(("iris", 2)), b.take(("iris", 2))
        ((None, True), ['r4'], [])
    """

    def __init__(self, max_batch: int = 32, max_wait_s: float = 0.05):
        if max_batch < 1 or max_wait_s < 0:
            raise ValueError("max_batch must be >= 1 and max_wait_s >= 0")
        self.max_batch = int(max_batch)
        self.max_wait_s = float(max_wait_s)
        self.queues: dict[Any, list[Any]] = {}

    def add(self, key: Any, item: Any) -> tuple[list[Any] | None, bool]:
        """Queue ``item``; (a full batch to send now or None, whether the queue was empty)."""
        q = self.queues.setdefault(key, [])
        q.append(item)
        first = len(q) == 1
        return (self.take(key) if len(q) >= self.max_batch else None), first

    def take(self, key: Any) -> list[Any]:
        """Everything queued for ``key`` (sent by the caller), oldest first."""
        return self.queues.pop(key, [])


class ShadowComparator:
    """Pairs primary and shadow predictions by request id and compares them.

    Args:
        task: ``"classification"`` (labels) or ``"regression"`` (numbers).
        tolerance: regression values agree when ``|primary - shadow| <= tolerance``.
        ttl_s: an answer waits at most this long for its pair.
        max_pending: the most answers waiting; beyond it the oldest is evicted.
        relative_accuracy: of the latency and regression sketches.
        bins: for regression, the number of equal-mass groups the distance is computed on.

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
        for name, v in (("max_pending", max_pending), ("bins", bins)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidInputError(f"{name} must be a positive integer, got {v!r}")
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
        now = _time(now)
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
        now = _time(now)
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
        """The Jensen-Shannon distance between the primary's and the shadow's predictions; None without data."""
        a, b = self._dist["primary"], self._dist["shadow"]
        if isinstance(a, CategoricalSketch):
            ca, cb = a.counts, b.counts  # type: ignore[union-attr]
            keys = sorted(set(ca) | set(cb))
            p, q = [ca.get(k, 0) for k in keys], [cb.get(k, 0) for k in keys]
        else:
            p, q = _grouped(a, b, self.bins)  # type: ignore[arg-type]
        if sum(p) == 0 or sum(q) == 0:
            return None
        return js_distance(p, q)

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


def _grouped(primary: NumericSketch, shadow: NumericSketch, bins: int) -> tuple[list[int], list[int]]:
    """Counts of both sketches on shared bucket groups of about equal primary mass.

    Group 0 holds shadow buckets below every primary bucket, group ``bins + 1`` those
    above; a primary bucket (and any shadow bucket between primary buckets) goes to
    group ``1 + floor(bins * primary_count_before_it / primary_total)``.
    """
    lp, hp, cp = primary.bins()
    ls, hs, cs = shadow.bins()
    counts: dict[tuple[float, float], list[int]] = {}
    for lo, hi, c in zip(lp, hp, cp):
        counts.setdefault((float(lo), float(hi)), [0, 0])[0] += int(c)
    for lo, hi, c in zip(ls, hs, cs):
        counts.setdefault((float(lo), float(hi)), [0, 0])[1] += int(c)
    total = int(cp.sum())
    p, q = [0] * (bins + 2), [0] * (bins + 2)
    before = 0
    for key in sorted(counts):
        n_p, n_s = counts[key]
        if total == 0:
            g = 0
        elif before == 0 and n_p == 0:
            g = 0
        elif before == total:
            g = bins + 1
        else:
            g = 1 + min(bins - 1, before * bins // total)
        p[g] += n_p
        q[g] += n_s
        before += n_p
    return p, q
