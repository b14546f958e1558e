"""Live statistics of one model version, mergeable across replicas: :class:`VersionStats`.

Every serving replica keeps one per version (requests, server errors, a latency
:class:`~raymlops.sketches.NumericSketch` in milliseconds, feedback and
shadow-agreement counts) and flushes it; merging is addition (the sketches merge
exactly), so the controller's view of N replicas equals one process that saw every
request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from raymlops.core.errors import InvalidInputError
from raymlops.serving.gates._checks import count, pair
from raymlops.sketches import NumericSketch

__all__ = ["VersionStats"]


class VersionStats:
    """Live statistics of one model version, mergeable across replicas.

    Args:
        relative_accuracy: of the latency sketch (quantiles within this relative error).

    Attributes:
        requests: requests answered or failed by the version.
        errors: requests that failed with a server-side error (a client's bad input is
            rejected before the model and never counts here).
        latency_ms: a :class:`NumericSketch` of request latencies in milliseconds.
        feedback_correct, feedback_total: labels from feedback that matched the prediction,
            out of all labels received.
        shadow_agree, shadow_total: shadow predictions that agreed with the primary's, out
            of all compared (kept on the shadow version's stats).

    Example:
        >>> a, b = VersionStats(), VersionStats()
        >>> a.record_request(10.0)
        >>> b.record_request(30.0, error=True)
        >>> b.record_feedback(correct=3, total=4)
        >>> both = a.merge(b)
        >>> both.requests, both.errors, both.error_rate, both.accuracy, both.latency_ms.max
        (2, 1, 0.5, 0.75, 30.0)
        >>> VersionStats.from_dict(both.to_dict()) == both
        True
    """

    def __init__(self, *, relative_accuracy: float = 0.01):
        self.requests = 0
        self.errors = 0
        self._latency = NumericSketch(relative_accuracy=relative_accuracy)
        self._pending: list[float] = []  # latencies not yet in the sketch (added in one vectorised update)
        self.feedback_correct = 0
        self.feedback_total = 0
        self.shadow_agree = 0
        self.shadow_total = 0

    @property
    def latency_ms(self) -> NumericSketch:
        """The latency sketch (ms), with every recorded latency in it."""
        if self._pending:
            pending, self._pending = self._pending, []
            self._latency.update(np.asarray(pending, dtype=np.float64))
        return self._latency

    @latency_ms.setter
    def latency_ms(self, sketch: NumericSketch) -> None:
        self._latency, self._pending = sketch, []

    # -- recording
    def record_request(self, latency_ms: float | None, *, error: bool = False) -> None:
        """Count one request; ``latency_ms`` None when it was not measured (a list append: the hot path)."""
        self.requests += 1
        self.errors += bool(error)
        if latency_ms is not None:
            self._pending.append(float(latency_ms))
            if len(self._pending) >= 4096:
                self.latency_ms  # noqa: B018 - settle into the sketch

    def record_requests(self, latencies_ms: Any, *, errors: int = 0) -> None:
        """Count a batch of requests, one latency each, ``errors`` of which failed.

        Raises:
            InvalidInputError: if ``errors`` is more than the number of latencies.
        """
        before = self.latency_ms.rows
        sketch = self.latency_ms.copy()
        sketch.update(latencies_ms)
        n = sketch.rows - before
        errors, n = pair(errors, n, "errors")
        self.latency_ms = sketch
        self.requests += n
        self.errors += errors

    def record_feedback(self, *, correct: int, total: int) -> None:
        """Add ``correct`` matching labels out of ``total`` feedback labels."""
        correct, total = pair(correct, total, "feedback")
        self.feedback_correct += correct
        self.feedback_total += total

    def record_shadow(self, *, agree: int, total: int) -> None:
        """Add ``agree`` agreeing shadow predictions out of ``total`` compared."""
        agree, total = pair(agree, total, "shadow agreement")
        self.shadow_agree += agree
        self.shadow_total += total

    # -- derived numbers (None without data)
    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    @property
    def accuracy(self) -> float | None:
        return self.feedback_correct / self.feedback_total if self.feedback_total else None

    @property
    def agreement(self) -> float | None:
        return self.shadow_agree / self.shadow_total if self.shadow_total else None

    def latency_quantile(self, q: float) -> float | None:
        """The latency quantile ``q`` in ms (within the sketch's relative accuracy), or None."""
        return self.latency_ms.quantile(q) if self.latency_ms.count else None

    # -- merging
    def merge_inplace(self, other: VersionStats) -> VersionStats:
        """Add ``other`` into these stats and return them.

        Raises:
            InvalidInputError: if ``other`` is not VersionStats or its latency sketch has
                another relative accuracy.
        """
        if not isinstance(other, VersionStats):
            raise InvalidInputError(f"cannot merge VersionStats with {type(other).__name__}")
        self.latency_ms.merge_inplace(other.latency_ms)
        self.requests += other.requests
        self.errors += other.errors
        self.feedback_correct += other.feedback_correct
        self.feedback_total += other.feedback_total
        self.shadow_agree += other.shadow_agree
        self.shadow_total += other.shadow_total
        return self

    def merge(self, other: VersionStats) -> VersionStats:
        """New stats holding both (counts add; the latency sketches merge exactly)."""
        return self.copy().merge_inplace(other)

    def __iadd__(self, other: VersionStats) -> VersionStats:
        return self.merge_inplace(other)

    def __add__(self, other: VersionStats) -> VersionStats:
        return self.merge(other)

    def copy(self) -> VersionStats:
        sketch = self.latency_ms.copy()
        new = VersionStats.__new__(VersionStats)
        new.__dict__.update(self.__dict__)
        new.latency_ms = sketch
        return new

    # -- serialisation
    _COUNTS: ClassVar[tuple[str, ...]] = (
        "requests", "errors", "feedback_correct", "feedback_total", "shadow_agree", "shadow_total",
    )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (what a replica flushes)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in self._COUNTS}
        out["latency_ms"] = self.latency_ms.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VersionStats:
        """Rebuild stats from :meth:`to_dict` output.

        Raises:
            InvalidInputError: on missing or unknown keys or invalid counts.
        """
        keys = {*cls._COUNTS, "latency_ms"}
        if not isinstance(data, Mapping) or set(data) != keys:
            raise InvalidInputError(f"a VersionStats dict has exactly the keys {sorted(keys)}")
        new = cls.__new__(cls)
        for name in cls._COUNTS:
            setattr(new, name, count(data[name], name))
        pair(new.errors, new.requests, "errors")
        pair(new.feedback_correct, new.feedback_total, "feedback")
        pair(new.shadow_agree, new.shadow_total, "shadow agreement")
        new.latency_ms = NumericSketch.from_dict(data["latency_ms"])
        return new

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VersionStats):
            return NotImplemented
        same = all(getattr(self, n) == getattr(other, n) for n in self._COUNTS)
        return same and self.latency_ms == other.latency_ms

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        p99 = self.latency_quantile(0.99)
        return (
            f"VersionStats(requests={self.requests}, errors={self.errors}, "
            f"p99_latency_ms={None if p99 is None else round(p99, 3)}, "
            f"feedback={self.feedback_correct}/{self.feedback_total}, shadow={self.shadow_agree}/{self.shadow_total})"
        )
