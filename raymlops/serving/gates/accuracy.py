"""The accuracy gate: feedback accuracy, absolute or against the baseline version."""

from __future__ import annotations

from typing import Any

from raymlops.core.errors import InvalidInputError
from raymlops.serving.gates._checks import fmt, unit
from raymlops.serving.gates.base import Gate
from raymlops.serving.gates.stats import VersionStats
from raymlops.serving.gates.verdict import GateCheck, GateStatus

__all__ = ["AccuracyGate"]


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
        self.min_accuracy = None if min_accuracy is None else unit(min_accuracy, "min_accuracy")
        self.max_drop = None if max_drop is None else unit(max_drop, "max_drop")
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
                f"{fmt(acc)} {'>=' if ok else '<'} {fmt(self.min_accuracy)} on {n} labels",
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
            f"{fmt(acc)} {'>=' if ok else '<'} {fmt(base)} - {fmt(self.max_drop)} "
            f"(baseline {fmt(base)} on {m} labels, new version on {n})",
            baseline=base,
        )  # fmt: skip
