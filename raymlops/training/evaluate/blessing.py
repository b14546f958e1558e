"""Checks and the blessing verdict: :func:`bless` checks a candidate's evaluation against
thresholds, comparing with the baseline, and returns a :class:`Blessing` of
:class:`Check` records whose verdict gates registration and rollout."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from raymlops.core.errors import ChecksFailedError, InvalidInputError
from raymlops.training.evaluate._common import check_keys, nan_to_none
from raymlops.training.evaluate.binning import OVERALL
from raymlops.training.evaluate.result import EvaluationResult
from raymlops.training.evaluate.thresholds import ChangeThreshold, Threshold, threshold_from_dict
from raymlops.training.metrics import get_metric

__all__ = ["BLESSED", "NOT_BLESSED", "Blessing", "Check", "bless"]

BLESSED = "BLESSED"
NOT_BLESSED = "NOT_BLESSED"


@dataclass(frozen=True, kw_only=True)
class Check:
    """One checked (or skipped) bound of one metric on one slice.

    Attributes:
        metric: the metric name.
        slice: the slice name (``"*"`` overall).
        kind: ``"value"`` (a bound on the value) or ``"change"`` (against the baseline).
        value: the candidate's value (``None`` when the slice is missing).
        baseline: the baseline's value (change checks).
        bound: the value the candidate had to reach.
        op: ``">="`` or ``"<="``: the check passes when ``value op bound``.
        passed: ``True``/``False``, or ``None`` when skipped.
        message: what was checked and how it came out.
    """

    metric: str
    slice: str
    kind: str
    value: float | None
    baseline: float | None
    bound: float | None
    op: str
    passed: bool | None
    message: str

    @property
    def skipped(self) -> bool:
        return self.passed is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "slice": self.slice,
            "kind": self.kind,
            "value": None if self.value is None else nan_to_none(self.value),
            "baseline": None if self.baseline is None else nan_to_none(self.baseline),
            "bound": self.bound,
            "op": self.op,
            "passed": self.passed,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Check:
        check_keys(d, {"metric", "slice", "kind", "value", "baseline", "bound", "op", "passed", "message"}, "Check")
        return cls(**d)


@dataclass(frozen=True)
class Blessing:
    """The verdict of :func:`bless` and every check behind it.

    Attributes:
        verdict: ``"BLESSED"`` when no check failed, else ``"NOT_BLESSED"``.
        checks: every check, skipped ones included, in threshold then slice order.
    """

    verdict: str
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def blessed(self) -> bool:
        return self.verdict == BLESSED

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.passed is False]

    @property
    def skipped(self) -> list[Check]:
        return [c for c in self.checks if c.passed is None]

    def summary(self) -> str:
        """The verdict and the failed checks' messages, one per line."""
        counts = f"{len(self.checks)} checks: {len(self.failed)} failed, {len(self.skipped)} skipped"
        return "\n".join([f"{self.verdict} ({counts})", *(f"- {c.message}" for c in self.failed)])

    def raise_if_not_blessed(self) -> None:
        """Raise :class:`~raymlops.core.errors.ChecksFailedError` (exit code 1) unless blessed."""
        if not self.blessed:
            raise ChecksFailedError(
                f"the candidate is not blessed: {len(self.failed)} check(s) failed: "
                + "; ".join(c.message for c in self.failed),
                details=[c.to_dict() for c in self.failed],
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``blessed`` and ``failed`` (the failed checks) are derived, for readers."""
        return {
            "verdict": self.verdict,
            "blessed": self.blessed,
            "checks": [c.to_dict() for c in self.checks],
            "failed": [c.to_dict() for c in self.failed],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Blessing:
        """Rebuild from :meth:`to_dict` (the derived ``blessed`` and ``failed`` are ignored)."""
        check_keys(d, {"verdict", "checks", "blessed", "failed"}, "Blessing")
        if d.get("verdict") not in (BLESSED, NOT_BLESSED):
            raise InvalidInputError(f"blessing verdict {d.get('verdict')!r}: expected {BLESSED} or {NOT_BLESSED}")
        return cls(verdict=d["verdict"], checks=tuple(Check.from_dict(c) for c in d.get("checks", ())))


def _fmt_pair(a: float, b: float) -> tuple[str, str]:
    """Format two numbers with 4 significant digits, more if they would read the same."""
    for digits in (4, 6, 8, 12, 17):
        sa, sb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if sa != sb or a == b:
            return sa, sb
    return repr(a), repr(b)  # pragma: no cover


def _where(slice_: str) -> str:
    return "overall (slice *)" if slice_ == OVERALL else f"on slice {slice_}"


def _target_slices(slices: str | tuple[str, ...], candidate: EvaluationResult) -> list[str]:
    if slices == OVERALL:
        return [OVERALL]
    if slices == "all":
        return list(candidate.by_slice)
    return list(slices)


def _check(metric: str, slice_: str, kind: str, op: str, passed: bool | None, message: str, **values: Any) -> Check:
    return Check(
        metric=metric,
        slice=slice_,
        kind=kind,
        value=values.get("value"),
        baseline=values.get("baseline"),
        bound=values.get("bound"),
        op=op,
        passed=passed,
        message=message,
    )


def _precheck(metric: str, kind: str, s: str, candidate: EvaluationResult, op: str) -> Check | None:
    """The failed/skipped check for a missing, too small or undefined slice, else None."""
    if s not in candidate.by_slice:
        shown = list(candidate.by_slice)[:10]
        more = "" if len(candidate.by_slice) <= 10 else f" and {len(candidate.by_slice) - 10} more"
        message = (
            f"slice {s!r} of the {metric} threshold is not in the candidate's evaluation (slices: "
            f"{', '.join(shown)}{more}): fix the slice name or evaluate with the slice spec that makes it"
        )
        return _check(metric, s, kind, op, False, message)
    value = candidate.by_slice[s][metric]
    if not candidate.checked(s):
        message = (
            f"{metric} {_where(s)} not checked: the slice has {candidate.counts[s]} rows, below "
            f"min_slice_size {candidate.min_slice_size}"
        )
        return _check(metric, s, kind, op, None, message, value=value)
    if math.isnan(value):
        message = f"{metric} {_where(s)} not checked: it is undefined on the slice's rows (e.g. a single class)"
        return _check(metric, s, kind, op, None, message, value=value)
    return None


def _value_checks(t: Threshold, candidate: EvaluationResult) -> list[Check]:
    out: list[Check] = []
    for s in _target_slices(t.slices, candidate):
        for bound, op, side in ((t.lower, ">=", "lower"), (t.upper, "<=", "upper")):
            if bound is None:
                continue
            pre = _precheck(t.metric, "value", s, candidate, op)
            if pre is not None:
                out.append(pre)
                continue
            value = candidate.by_slice[s][t.metric]
            passed = value >= bound if op == ">=" else value <= bound
            sv, sb = _fmt_pair(value, bound)
            outcome = "within" if passed else ("below" if side == "lower" else "above")
            message = f"{t.metric} {_where(s)} is {sv}, {outcome} the {side} bound {sb}"
            out.append(_check(t.metric, s, "value", op, passed, message, value=value, bound=bound))
    return out


def _change_rule(t: ChangeThreshold) -> str:
    amount = f"{abs(t.min_improvement) * 100:g}% of the baseline" if t.relative else f"{abs(t.min_improvement):g}"
    if t.min_improvement > 0:
        return f"it must improve on the baseline by at least {amount}"
    if t.min_improvement < 0:
        return f"it may be at most {amount} worse than the baseline"
    return "it must be no worse than the baseline"


def _change_checks(t: ChangeThreshold, candidate: EvaluationResult, baseline: EvaluationResult | None) -> list[Check]:
    greater = get_metric(t.metric).greater_is_better
    op = ">=" if greater else "<="
    out: list[Check] = []
    for s in _target_slices(t.slices, candidate):
        pre = _precheck(t.metric, "change", s, candidate, op)
        if pre is not None:
            out.append(pre)
            continue
        value = candidate.by_slice[s][t.metric]
        base = None if baseline is None else baseline.by_slice.get(s, {}).get(t.metric)
        reason = None
        if baseline is None:
            reason = "there is no baseline to compare with"
        elif s not in baseline.by_slice:
            reason = "the baseline's evaluation has no such slice"
        elif base is None:
            reason = f"the baseline was not evaluated on {t.metric}"
        elif math.isnan(base):
            reason = "it is undefined for the baseline"
        if reason is not None:
            message = f"change of {t.metric} {_where(s)} not checked: {reason}"
            out.append(_check(t.metric, s, "change", op, None, message, value=value, baseline=base))
            continue
        allowance = t.min_improvement * (abs(base) if t.relative else 1.0)
        bound = base + allowance if greater else base - allowance
        passed = value >= bound if greater else value <= bound
        sv, sbase = _fmt_pair(value, base)
        _, sbound = _fmt_pair(value, bound)
        direction = "higher" if greater else "lower"
        outcome = "meets" if passed else ("is below" if greater else "is above")
        message = (
            f"{t.metric} {_where(s)} is {sv} vs the baseline's {sbase} ({direction} is better): {outcome} "
            f"the bound {sbound}; {_change_rule(t)}"
        )
        out.append(_check(t.metric, s, "change", op, passed, message, value=value, baseline=base, bound=bound))
    return out


def bless(
    candidate: EvaluationResult,
    baseline: EvaluationResult | None,
    thresholds: Threshold | ChangeThreshold | Iterable[Threshold | ChangeThreshold],
) -> Blessing:
    """Check a candidate's evaluation against thresholds: the blessing verdict.

    Semantics:

    - Value bounds are inclusive (``value >= lower``, ``value <= upper``); each bound of
      each slice is one :class:`Check`.
    - Change thresholds compare with the baseline's value of the same slice name (see
      :class:`ChangeThreshold`). They are **skipped** (recorded, not failed) when there
      is no baseline, the baseline lacks the slice or the metric, or the baseline's
      value is undefined.
    - Slices with fewer rows than the candidate's ``min_slice_size`` are reported but
      not checked (skipped, with the row count in the message); so are metrics that are
      undefined (``nan``) on a slice.
    - A slice named in a threshold that the candidate's evaluation lacks fails (a typo
      must not pass silently).
    - The verdict is BLESSED when no check failed; with no thresholds, or with only
      skipped checks (a first model, without a baseline), the candidate is BLESSED.

    Args:
        candidate: the new model's evaluation.
        baseline: the current champion's evaluation on the same data, or ``None``.
        thresholds: :class:`Threshold` and :class:`ChangeThreshold` definitions.

    Returns:
        The blessing.

    Raises:
        InvalidInputError: a threshold on a metric the candidate was not evaluated on.

    Example:
        >>> cand = EvaluationResult(metrics=("log_loss",), by_slice={"*": {"log_loss": 0.42}}, counts={"*": 100})
        >>> base = EvaluationResult(metrics=("log_loss",), by_slice={"*": {"log_loss": 0.40}}, counts={"*": 100})
        >>> b = bless(cand, base, [ChangeThreshold(metric="log_loss", min_improvement=-0.01)])
        >>> b.verdict, b.failed[0].bound
        ('NOT_BLESSED', 0.41000000000000003)
        >>> bless(cand, None, [ChangeThreshold(metric="log_loss")]).skipped[0].message
        'change of log_loss overall (slice *) not checked: there is no baseline to compare with'
    """
    if isinstance(thresholds, (Threshold, ChangeThreshold)):
        thresholds = [thresholds]
    checks: list[Check] = []
    for t in thresholds:
        if isinstance(t, Mapping):
            t = threshold_from_dict(t)
        if not isinstance(t, (Threshold, ChangeThreshold)):
            raise InvalidInputError(f"not a threshold: {t!r}; pass Threshold(...) or ChangeThreshold(...)")
        if t.metric not in candidate.metrics:
            raise InvalidInputError(
                f"a threshold is on {t.metric!r}, which the candidate was not evaluated on "
                f"(metrics: {', '.join(candidate.metrics)}): add it to evaluate(metrics=...)"
            )
        if isinstance(t, Threshold):
            checks.extend(_value_checks(t, candidate))
            if t.change is not None:
                checks.extend(_change_checks(t.change, candidate, baseline))
        else:
            checks.extend(_change_checks(t, candidate, baseline))
    verdict = NOT_BLESSED if any(c.passed is False for c in checks) else BLESSED
    return Blessing(verdict=verdict, checks=tuple(checks))
