"""Rollout gates: checks on a new version's live statistics that decide promotion and rollback.

Every serving replica keeps one :class:`VersionStats` per version (requests, server
errors, a latency :class:`~raymlops.sketches.NumericSketch` in milliseconds, feedback
and shadow-agreement counts) and flushes it; merging is addition (the sketches merge
exactly), so the controller's view of N replicas equals one process that saw every
request. :func:`evaluate_gates` checks the new version's stats (``canary_stats``) against
the gates, using the stable version's stats (``baseline_stats``) where a gate compares:

========================  ============================================  ====================
gate (``kind``)           passes when                                   samples counted
========================  ============================================  ====================
``error_rate``            ``errors / requests <= max_rate``             requests
``latency``               latency quantile (p99) ``<= max_ms``          latency observations
``shadow_agreement``      ``agree / total >= min_agreement``            shadow pairs
``accuracy``              feedback accuracy ``>= min_accuracy``, or     feedback labels (of
                          ``>= baseline accuracy - max_drop``           both, when relative)
``drift``                 no drift flagged (or score ``<= max_score``)  requests
========================  ============================================  ====================

A gate with fewer than ``min_samples`` samples reports INSUFFICIENT_DATA. The verdict is
FAIL if any check fails, else INSUFFICIENT_DATA if any check lacks data, else PASS (also
when there are no gates). The drift monitor lands later, so drift comes in as a boolean
or a score through ``evaluate_gates(..., drift=...)``.

Example:
    >>> canary = VersionStats()
    >>> canary.record_requests([12.0] * 180 + [40.0] * 20, errors=3)
    >>> gates = [ErrorRateGate(max_rate=0.01, min_samples=100), LatencyGate(max_ms=50, min_samples=100)]
    >>> verdict = evaluate_gates(gates, canary)
    >>> verdict.status.value, verdict.numbers()
    ('FAIL', {'error_rate': 0.015, 'p99_latency_ms': 40.0})
    >>> print(verdict.message)
    error_rate: 0.015 > 0.01 (3 of 200 requests failed)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

import numpy as np

from raymlops.sketches import NumericSketch
from raymlops.core.errors import InvalidInputError

__all__ = [
    "GATE_TYPES",
    "AccuracyGate",
    "DriftGate",
    "ErrorRateGate",
    "Gate",
    "GateCheck",
    "GateStatus",
    "GateVerdict",
    "LatencyGate",
    "ShadowAgreementGate",
    "VersionStats",
    "evaluate_gates",
    "gate_from_dict",
]


# --------------------------------------------------------------------------- stats


def _count(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise InvalidInputError(f"{what} must be a non-negative integer, got {v!r}")
    return v


def _pair(part: Any, total: Any, what: str) -> tuple[int, int]:
    part, total = _count(part, f"{what} count"), _count(total, f"{what} total")
    if part > total:
        raise InvalidInputError(f"{what}: {part} out of {total} is more than the total")
    return part, total


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
        errors, n = _pair(errors, n, "errors")
        self.latency_ms = sketch
        self.requests += n
        self.errors += errors

    def record_feedback(self, *, correct: int, total: int) -> None:
        """Add ``correct`` matching labels out of ``total`` feedback labels."""
        correct, total = _pair(correct, total, "feedback")
        self.feedback_correct += correct
        self.feedback_total += total

    def record_shadow(self, *, agree: int, total: int) -> None:
        """Add ``agree`` agreeing shadow predictions out of ``total`` compared."""
        agree, total = _pair(agree, total, "shadow agreement")
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
            setattr(new, name, _count(data[name], name))
        _pair(new.errors, new.requests, "errors")
        _pair(new.feedback_correct, new.feedback_total, "feedback")
        _pair(new.shadow_agree, new.shadow_total, "shadow agreement")
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


# --------------------------------------------------------------------------- verdicts


class GateStatus(str, Enum):
    """The outcome of a gate check, and of a verdict."""

    PASS = "PASS"
    FAIL = "FAIL"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


@dataclass(frozen=True)
class GateCheck:
    """The result of one gate: its numbers and a message saying why.

    Attributes:
        name: the gate's name.
        kind: the gate's kind.
        status: PASS, FAIL or INSUFFICIENT_DATA.
        value: the measured number (None without data).
        threshold: the number it was compared with.
        samples: samples seen; ``min_samples`` needed.
        message: a sentence with the numbers.
        baseline: the baseline's number, for gates that compare with it.
    """

    name: str
    kind: str
    status: GateStatus
    value: float | None
    threshold: float | None
    samples: int
    min_samples: int
    message: str
    baseline: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status.value,
            "value": self.value,
            "threshold": self.threshold,
            "samples": self.samples,
            "min_samples": self.min_samples,
            "message": self.message,
            "baseline": self.baseline,
        }


@dataclass(frozen=True)
class GateVerdict:
    """The combined result of all gates.

    Attributes:
        status: FAIL if any check failed, else INSUFFICIENT_DATA if any lacked data,
            else PASS.
        checks: one :class:`GateCheck` per gate, in the gates' order.
    """

    status: GateStatus
    checks: tuple[GateCheck, ...] = ()

    @property
    def message(self) -> str:
        """The messages of the checks that decided the status (all when it is PASS)."""
        if not self.checks:
            return "no gates configured"
        if self.status is GateStatus.PASS:
            return "; ".join(c.message for c in self.checks)
        return "; ".join(c.message for c in self.checks if c.status is self.status)

    def numbers(self) -> dict[str, float | None]:
        """``{gate name: measured value}``, for rollout decision records."""
        return {c.name: c.value for c in self.checks}

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "message": self.message, "checks": [c.to_dict() for c in self.checks]}


# --------------------------------------------------------------------------- gates


def _unit(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
        raise InvalidInputError(f"{what} must be a number between 0 and 1, got {v!r}")
    return float(v)


def _positive(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
        raise InvalidInputError(f"{what} must be a positive number, got {v!r}")
    return float(v)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.6g}"


class Gate:
    """Base of the gate definitions: keyword-only, validated, with equality and to/from dict.

    A subclass sets ``kind`` and ``_params`` (its constructor arguments besides ``name``
    and ``min_samples``) and implements ``_check``.
    """

    kind: ClassVar[str] = ""
    _params: ClassVar[tuple[str, ...]] = ()
    name: str
    min_samples: int

    def _init_common(self, name: str | None, min_samples: int) -> None:
        name = self.default_name() if name is None else name
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"a gate name must be a non-empty string, got {name!r}")
        self.name = name
        self.min_samples = _count(min_samples, f"min_samples of gate {name!r}")

    def default_name(self) -> str:
        return self.kind

    def check(
        self, canary: VersionStats, baseline: VersionStats | None = None, *, drift: bool | float | None = None
    ) -> GateCheck:
        """Check the new version's stats (and the baseline's, for relative gates)."""
        return self._check(canary, baseline, drift)

    def _check(self, canary: VersionStats, baseline: VersionStats | None, drift: bool | float | None) -> GateCheck:
        raise NotImplementedError

    def _result(
        self, status: GateStatus, value: float | None, threshold: float | None, samples: int, message: str,
        baseline: float | None = None,
    ) -> GateCheck:  # fmt: skip
        message = f"{self.name}: {message}"
        return GateCheck(self.name, self.kind, status, value, threshold, samples, self.min_samples, message, baseline)

    def _insufficient(self, samples: int, what: str) -> GateCheck:
        return self._result(
            GateStatus.INSUFFICIENT_DATA, None, None, samples, f"{samples} of {self.min_samples} {what} needed so far"
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name}
        out.update({p: getattr(self, p) for p in self._params})
        out["min_samples"] = self.min_samples
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Gate:
        """Rebuild a gate of this class (or, on :class:`Gate`, of the dict's ``kind``)."""
        if cls is Gate:
            return gate_from_dict(data)
        if not isinstance(data, Mapping) or data.get("kind") != cls.kind:
            raise InvalidInputError(f"expected a {cls.kind!r} gate dict, got {data!r}")
        args = {k: v for k, v in data.items() if k != "kind"}
        try:
            return cls(**args)
        except TypeError as e:
            raise InvalidInputError(
                f"invalid {cls.kind!r} gate dict {dict(data)!r}: {e}; pass the output of to_dict()"
            ) from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Gate):
            return NotImplemented
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, repr(v)) for k, v in self.to_dict().items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "kind")
        return f"{type(self).__name__}({args})"


class ErrorRateGate(Gate):
    """The new version's server error rate is at most ``max_rate``.

    Args:
        max_rate: the highest acceptable ``errors / requests`` (0 to 1).
        min_samples: requests needed before the gate decides.
        name: defaults to ``"error_rate"``.

    Example:
        >>> ErrorRateGate(max_rate=0.01)
        ErrorRateGate(name='error_rate', max_rate=0.01, min_samples=100)
    """

    kind = "error_rate"
    _params = ("max_rate",)

    def __init__(self, *, max_rate: float, min_samples: int = 100, name: str | None = None):
        self.max_rate = _unit(max_rate, "max_rate")
        self._init_common(name, min_samples)

    def _check(self, canary: VersionStats, baseline: VersionStats | None, drift: Any) -> GateCheck:
        n = canary.requests
        if n < self.min_samples or n == 0:
            return self._insufficient(n, "requests")
        rate = canary.errors / n
        ok = rate <= self.max_rate
        sign = "<=" if ok else ">"
        return self._result(
            GateStatus.PASS if ok else GateStatus.FAIL, rate, self.max_rate, n,
            f"{_fmt(rate)} {sign} {_fmt(self.max_rate)} ({canary.errors} of {n} requests failed)",
        )  # fmt: skip


class LatencyGate(Gate):
    """A latency quantile (p99 by default) of the new version is at most ``max_ms``.

    The quantile comes from the merged latency sketch, within its relative accuracy
    (1 % by default).

    Args:
        max_ms: the highest acceptable latency in milliseconds.
        quantile: the quantile level, in (0, 1].
        min_samples: latency observations needed before the gate decides.
        name: defaults to ``"p99_latency_ms"`` (``p50_latency_ms`` for 0.5, ...).

    Example:
        >>> LatencyGate(max_ms=250, quantile=0.95).name
        'p95_latency_ms'
    """

    kind = "latency"
    _params = ("max_ms", "quantile")

    def __init__(self, *, max_ms: float, quantile: float = 0.99, min_samples: int = 100, name: str | None = None):
        self.max_ms = _positive(max_ms, "max_ms")
        self.quantile = _unit(quantile, "quantile")
        if self.quantile == 0:
            raise InvalidInputError("quantile must be above 0 (0 is the minimum latency); use e.g. 0.99")
        self._init_common(name, min_samples)

    def default_name(self) -> str:
        return f"p{self.quantile * 100:g}_latency_ms"

    def _check(self, canary: VersionStats, baseline: VersionStats | None, drift: Any) -> GateCheck:
        n = canary.latency_ms.count
        if n < self.min_samples or n == 0:
            return self._insufficient(n, "latency observations")
        value = canary.latency_ms.quantile(self.quantile)
        ok = value <= self.max_ms
        return self._result(
            GateStatus.PASS if ok else GateStatus.FAIL, value, self.max_ms, n,
            f"{_fmt(value)} ms {'<=' if ok else '>'} {_fmt(self.max_ms)} ms over {n} requests",
        )  # fmt: skip


class ShadowAgreementGate(Gate):
    """The shadow version agrees with the primary on at least ``min_agreement`` of predictions.

    Args:
        min_agreement: the lowest acceptable agreement rate (0 to 1).
        min_samples: compared prediction pairs needed before the gate decides.
        name: defaults to ``"shadow_agreement"``.
    """

    kind = "shadow_agreement"
    _params = ("min_agreement",)

    def __init__(self, *, min_agreement: float, min_samples: int = 100, name: str | None = None):
        self.min_agreement = _unit(min_agreement, "min_agreement")
        self._init_common(name, min_samples)

    def _check(self, canary: VersionStats, baseline: VersionStats | None, drift: Any) -> GateCheck:
        n = canary.shadow_total
        if n < self.min_samples or n == 0:
            return self._insufficient(n, "shadow comparisons")
        value = canary.shadow_agree / n
        ok = value >= self.min_agreement
        return self._result(
            GateStatus.PASS if ok else GateStatus.FAIL, value, self.min_agreement, n,
            f"{_fmt(value)} {'>=' if ok else '<'} {_fmt(self.min_agreement)} ({canary.shadow_agree} of {n} agree)",
        )  # fmt: skip


class AccuracyGate(Gate):
    """Accuracy from feedback labels: absolute (``min_accuracy``) or against the baseline (``max_drop``).

    Args:
        min_accuracy: the lowest acceptable accuracy (0 to 1).
        max_drop: the most the new version's accuracy may fall below the baseline's
            (0 to 1); both versions need ``min_samples`` labels. Give exactly one of the two.
        min_samples: feedback labels needed before the gate decides.
        name: defaults to ``"accuracy"``.

    Raises:
        InvalidInputError: unless exactly one of ``min_accuracy`` and ``max_drop`` is given.

    Example:
        >>> canary, baseline = VersionStats(), VersionStats()
        >>> canary.record_feedback(correct=88, total=100)
        >>> baseline.record_feedback(correct=90, total=100)
        >>> AccuracyGate(max_drop=0.01).check(canary, baseline).message
        'accuracy: 0.88 < 0.9 - 0.01 (baseline 0.9 on 100 labels, new version on 100)'
    """

    kind = "accuracy"
    _params = ("min_accuracy", "max_drop")

    def __init__(
        self, *, min_accuracy: float | None = None, max_drop: float | None = None, min_samples: int = 100,
        name: str | None = None,
    ):  # fmt: skip
        if (min_accuracy is None) == (max_drop is None):
            raise InvalidInputError(
                "give exactly one of min_accuracy (absolute) and max_drop (relative to the baseline version)"
            )
        self.min_accuracy = None if min_accuracy is None else _unit(min_accuracy, "min_accuracy")
        self.max_drop = None if max_drop is None else _unit(max_drop, "max_drop")
        self._init_common(name, min_samples)

    def _check(self, canary: VersionStats, baseline: VersionStats | None, drift: Any) -> GateCheck:
        n = canary.feedback_total
        if n < self.min_samples or n == 0:
            return self._insufficient(n, "feedback labels")
        acc = canary.feedback_correct / n
        if self.min_accuracy is not None:
            ok = acc >= self.min_accuracy
            return self._result(
                GateStatus.PASS if ok else GateStatus.FAIL, acc, self.min_accuracy, n,
                f"{_fmt(acc)} {'>=' if ok else '<'} {_fmt(self.min_accuracy)} on {n} labels",
            )  # fmt: skip
        m = 0 if baseline is None else baseline.feedback_total
        if baseline is None or m < self.min_samples or m == 0:
            return self._result(
                GateStatus.INSUFFICIENT_DATA, acc, None, n,
                f"the baseline version has {m} of {self.min_samples} feedback labels needed so far",
            )  # fmt: skip
        base = baseline.feedback_correct / m
        threshold = base - self.max_drop  # type: ignore[operator]
        ok = acc >= threshold
        return self._result(
            GateStatus.PASS if ok else GateStatus.FAIL, acc, threshold, min(n, m),
            f"{_fmt(acc)} {'>=' if ok else '<'} {_fmt(base)} - {_fmt(self.max_drop)} "
            f"(baseline {_fmt(base)} on {m} labels, new version on {n})",
            baseline=base,
        )  # fmt: skip


class DriftGate(Gate):
    """No drift flagged on the new version's traffic.

    The drift result comes from the monitor through ``evaluate_gates(..., drift=...)``: a
    boolean (True fails) or a score (fails above ``max_score``); None means no result yet.

    Args:
        max_score: the highest acceptable drift score; None accepts booleans only.
        min_samples: requests of the new version needed before the gate decides.
        name: defaults to ``"drift"``.
    """

    kind = "drift"
    _params = ("max_score",)

    def __init__(self, *, max_score: float | None = None, min_samples: int = 0, name: str | None = None):
        if max_score is not None and (
            isinstance(max_score, bool) or not isinstance(max_score, (int, float)) or not math.isfinite(max_score)
        ):
            raise InvalidInputError(f"max_score must be a finite number or None, got {max_score!r}")
        self.max_score = None if max_score is None else float(max_score)
        self._init_common(name, min_samples)

    def _check(self, canary: VersionStats, baseline: VersionStats | None, drift: bool | float | None) -> GateCheck:
        n = canary.requests
        if drift is None:
            return self._result(GateStatus.INSUFFICIENT_DATA, None, self.max_score, n, "no drift result yet")
        if n < self.min_samples:
            return self._insufficient(n, "requests")
        if isinstance(drift, bool):
            status = GateStatus.FAIL if drift else GateStatus.PASS
            return self._result(
                status, float(drift), self.max_score, n, "drift detected" if drift else "no drift detected"
            )
        if not isinstance(drift, (int, float)) or math.isnan(drift):
            raise InvalidInputError(f"drift must be a boolean, a score or None, got {drift!r}")
        if self.max_score is None:
            raise InvalidInputError(
                f"gate {self.name!r} has no max_score, so it takes a boolean drift flag; got the score {drift!r}"
            )
        ok = drift <= self.max_score
        return self._result(
            GateStatus.PASS if ok else GateStatus.FAIL, float(drift), self.max_score, n,
            f"score {_fmt(float(drift))} {'<=' if ok else '>'} {_fmt(self.max_score)}",
        )  # fmt: skip


GATE_TYPES: dict[str, type[Gate]] = {
    cls.kind: cls for cls in (ErrorRateGate, LatencyGate, ShadowAgreementGate, AccuracyGate, DriftGate)
}
"""Gate classes by ``kind``; a new gate is a subclass and one line here."""


def gate_from_dict(data: Mapping[str, Any]) -> Gate:
    """Rebuild any gate from its :meth:`Gate.to_dict` output (its ``kind`` picks the class).

    Raises:
        InvalidInputError: on an unknown kind or invalid fields.
    """
    kind = data.get("kind") if isinstance(data, Mapping) else None
    cls = GATE_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidInputError(f"unknown gate kind {kind!r}: use one of {', '.join(GATE_TYPES)}")
    return cls.from_dict(data)


def evaluate_gates(
    gates: Iterable[Gate],
    canary_stats: VersionStats,
    baseline_stats: VersionStats | None = None,
    *,
    drift: bool | float | None = None,
) -> GateVerdict:
    """Check every gate and combine the results.

    Args:
        gates: the gate definitions (names must be unique).
        canary_stats: the new version's merged stats (for a shadow rollout, the shadow's).
        baseline_stats: the stable version's merged stats, for relative gates.
        drift: the drift monitor's flag or score for the new version, or None.

    Returns:
        The verdict: FAIL if any check failed, else INSUFFICIENT_DATA if any lacked data,
        else PASS.

    Raises:
        InvalidInputError: on repeated gate names or a non-gate.
    """
    gates = list(gates)
    names = [g.name for g in gates if isinstance(g, Gate)]
    if len(names) != len(gates):
        raise InvalidInputError("evaluate_gates takes Gate objects (ErrorRateGate, LatencyGate, ...)")
    if len(set(names)) != len(names):
        raise InvalidInputError(f"gate names must be unique, got {names}; pass name=... to tell them apart")
    checks = tuple(g.check(canary_stats, baseline_stats, drift=drift) for g in gates)
    statuses = {c.status for c in checks}
    if GateStatus.FAIL in statuses:
        status = GateStatus.FAIL
    elif GateStatus.INSUFFICIENT_DATA in statuses:
        status = GateStatus.INSUFFICIENT_DATA
    else:
        status = GateStatus.PASS
    return GateVerdict(status, checks)

