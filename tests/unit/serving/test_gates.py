"""Gates and version stats: definitions, checks with min_samples, verdicts, exact merging."""

from __future__ import annotations

import json

import numpy as np
import pytest

from raymlops.sketches import NumericSketch
from raymlops.core.errors import InvalidInputError
from raymlops.serving.gates import (
    GATE_TYPES,
    AccuracyGate,
    DriftGate,
    ErrorRateGate,
    Gate,
    GateStatus,
    LatencyGate,
    ShadowAgreementGate,
    VersionStats,
    evaluate_gates,
    gate_from_dict,
)

PASS, FAIL, INSUFFICIENT = GateStatus.PASS, GateStatus.FAIL, GateStatus.INSUFFICIENT_DATA


def stats(requests=0, errors=0, latencies=None, correct=0, total=0, agree=0, shadow=0) -> VersionStats:
    s = VersionStats()
    lat = list(latencies) if latencies is not None else [10.0] * requests
    s.record_requests(lat, errors=errors)
    s.record_feedback(correct=correct, total=total)
    s.record_shadow(agree=agree, total=shadow)
    return s


# --------------------------------------------------------------------------- VersionStats


def test_version_stats_merge_equals_one_process_that_saw_everything():
    rng = np.random.default_rng(0)
    lat = rng.lognormal(3, 0.5, 9000)
    err = rng.random(9000) < 0.02
    whole = VersionStats()
    for x, e in zip(lat[:50], err[:50]):
        whole.record_request(float(x), error=bool(e))
    whole.record_requests(lat[50:], errors=int(err[50:].sum()))
    whole.record_feedback(correct=700, total=1000)
    whole.record_shadow(agree=90, total=100)
    parts = [VersionStats() for _ in range(3)]
    for i, part in enumerate(parts):
        idx = np.arange(i, 9000, 3)
        part.record_requests(lat[idx], errors=int(err[idx].sum()))
    parts[0].record_feedback(correct=300, total=400)
    parts[1].record_feedback(correct=400, total=600)
    parts[2].record_shadow(agree=90, total=100)
    merged = parts[0] + parts[1] + parts[2]
    assert merged == whole
    assert merged.latency_ms.quantile(0.99) == whole.latency_ms.quantile(0.99)
    assert (merged.requests, merged.errors) == (9000, int(err.sum()))
    acc = VersionStats()
    for part in parts:
        acc += part
    assert acc == whole


def test_version_stats_roundtrip_through_json():
    s = stats(requests=50, errors=2, correct=8, total=10, agree=3, shadow=4)
    back = VersionStats.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s
    assert (back.error_rate, back.accuracy, back.agreement) == (0.04, 0.8, 0.75)
    assert "requests=50" in repr(s)


def test_version_stats_empty_numbers_are_none():
    s = VersionStats()
    assert (s.error_rate, s.accuracy, s.agreement, s.latency_quantile(0.99)) == (None, None, None, None)


def test_version_stats_reject_impossible_counts():
    s = VersionStats()
    with pytest.raises(InvalidInputError, match="more than the total"):
        s.record_feedback(correct=5, total=4)
    with pytest.raises(InvalidInputError, match="more than the total"):
        s.record_requests([1.0, 2.0], errors=3)
    assert s.requests == 0 and s.latency_ms.count == 0  # a rejected batch leaves no trace
    with pytest.raises(InvalidInputError, match="non-negative"):
        s.record_shadow(agree=-1, total=4)
    bad = stats(requests=2).to_dict()
    bad["errors"] = 3
    with pytest.raises(InvalidInputError):
        VersionStats.from_dict(bad)
    with pytest.raises(InvalidInputError, match="exactly the keys"):
        VersionStats.from_dict({"requests": 1})


def test_version_stats_request_without_latency():
    s = VersionStats()
    s.record_request(None, error=True)
    assert (s.requests, s.errors, s.latency_ms.count) == (1, 1, 0)


def test_merge_rejects_different_sketch_accuracy():
    with pytest.raises(InvalidInputError, match="relative_accuracy"):
        VersionStats().merge(VersionStats(relative_accuracy=0.02))


# --------------------------------------------------------------------------- gates


def test_error_rate_gate():
    g = ErrorRateGate(max_rate=0.01, min_samples=100)
    assert g.check(stats(requests=99)).status is INSUFFICIENT
    ok = g.check(stats(requests=200, errors=2))
    assert (ok.status, ok.value, ok.threshold, ok.samples) == (PASS, 0.01, 0.01, 200)
    bad = g.check(stats(requests=200, errors=3))
    assert bad.status is FAIL and "3 of 200 requests failed" in bad.message


def test_min_samples_zero_still_needs_one_observation():
    assert ErrorRateGate(max_rate=0.1, min_samples=0).check(VersionStats()).status is INSUFFICIENT


def test_latency_gate_uses_the_sketch_quantile():
    rng = np.random.default_rng(3)
    lat = rng.gamma(2.0, 20.0, 5000)
    s = stats(latencies=lat)
    true_p99 = np.quantile(lat, 0.99, method="lower")
    c = LatencyGate(max_ms=float(true_p99) * 1.05, min_samples=1000).check(s)
    assert c.status is PASS and c.name == "p99_latency_ms"
    assert abs(c.value - true_p99) <= 0.01 * true_p99
    assert LatencyGate(max_ms=float(true_p99) * 0.95).check(s).status is FAIL
    assert LatencyGate(max_ms=10_000, min_samples=6000).check(s).status is INSUFFICIENT
    sk = NumericSketch()
    sk.update(lat)
    assert c.value == sk.quantile(0.99)


def test_shadow_agreement_gate():
    g = ShadowAgreementGate(min_agreement=0.95, min_samples=50)
    assert g.check(stats(agree=40, shadow=40)).status is INSUFFICIENT
    assert g.check(stats(agree=96, shadow=100)).status is PASS
    c = g.check(stats(agree=90, shadow=100))
    assert c.status is FAIL and c.value == 0.9


def test_accuracy_gate_absolute_and_relative():
    absolute = AccuracyGate(min_accuracy=0.8, min_samples=100)
    assert absolute.check(stats(correct=85, total=100)).status is PASS
    assert absolute.check(stats(correct=79, total=100)).status is FAIL
    rel = AccuracyGate(max_drop=0.02, min_samples=100)
    canary = stats(correct=880, total=1000)
    assert rel.check(canary, None).status is INSUFFICIENT
    assert rel.check(canary, stats(correct=80, total=99)).status is INSUFFICIENT
    c = rel.check(canary, stats(correct=890, total=1000))
    assert (c.status, c.baseline) == (PASS, 0.89) and c.threshold == pytest.approx(0.87)
    assert rel.check(canary, stats(correct=910, total=1000)).status is FAIL


def test_drift_gate_boolean_and_score():
    assert DriftGate().check(VersionStats(), drift=None).status is INSUFFICIENT
    assert DriftGate().check(VersionStats(), drift=False).status is PASS
    assert DriftGate().check(VersionStats(), drift=True).status is FAIL
    g = DriftGate(max_score=0.2)
    assert g.check(VersionStats(), drift=0.1).status is PASS
    assert g.check(VersionStats(), drift=0.3).status is FAIL
    with pytest.raises(InvalidInputError, match="boolean"):
        DriftGate().check(VersionStats(), drift=0.3)
    assert DriftGate(min_samples=10).check(stats(requests=5), drift=False).status is INSUFFICIENT


# --------------------------------------------------------------------------- verdicts


def test_verdict_combines_fail_over_insufficient_over_pass():
    s = stats(requests=200, errors=0)
    passing, failing = ErrorRateGate(max_rate=0.01), LatencyGate(max_ms=5)
    lacking = AccuracyGate(min_accuracy=0.9)
    assert evaluate_gates([], s).status is PASS
    assert evaluate_gates([passing], s).status is PASS
    assert evaluate_gates([passing, lacking], s).status is INSUFFICIENT
    v = evaluate_gates([passing, lacking, failing], s)
    assert v.status is FAIL
    assert v.message == "p99_latency_ms: 10 ms > 5 ms over 200 requests"
    assert [c.status for c in v.checks] == [PASS, INSUFFICIENT, FAIL]
    assert v.numbers() == {"error_rate": 0.0, "accuracy": None, "p99_latency_ms": 10.0}
    d = json.loads(json.dumps(v.to_dict()))
    assert d["status"] == "FAIL" and d["checks"][1]["status"] == "INSUFFICIENT_DATA"


def test_evaluate_gates_passes_baseline_and_drift():
    gates = [AccuracyGate(max_drop=0.05, min_samples=10), DriftGate()]
    v = evaluate_gates(gates, stats(correct=9, total=10), stats(correct=9, total=10), drift=False)
    assert v.status is PASS


def test_gate_names_must_be_unique():
    with pytest.raises(InvalidInputError, match="unique"):
        evaluate_gates([LatencyGate(max_ms=10), LatencyGate(max_ms=20)], VersionStats())
    v = evaluate_gates([LatencyGate(max_ms=10), LatencyGate(max_ms=20, quantile=0.5)], VersionStats())
    assert [c.name for c in v.checks] == ["p99_latency_ms", "p50_latency_ms"]


def test_evaluate_gates_rejects_non_gates():
    with pytest.raises(InvalidInputError, match="Gate objects"):
        evaluate_gates([{"kind": "error_rate"}], VersionStats())  # type: ignore[list-item]


# --------------------------------------------------------------------------- definitions


ALL_GATES = [
    ErrorRateGate(max_rate=0.02, min_samples=500),
    LatencyGate(max_ms=250, quantile=0.95, name="p95"),
    ShadowAgreementGate(min_agreement=0.97),
    AccuracyGate(min_accuracy=0.8),
    AccuracyGate(max_drop=0.01, name="acc_vs_primary"),
    DriftGate(max_score=0.2),
]


@pytest.mark.parametrize("gate", ALL_GATES, ids=lambda g: g.name)
def test_gate_roundtrip_equality_and_repr(gate):
    d = json.loads(json.dumps(gate.to_dict()))
    assert gate_from_dict(d) == gate
    assert Gate.from_dict(d) == gate
    assert type(gate).from_dict(d) == gate
    assert hash(gate_from_dict(d)) == hash(gate)
    assert repr(gate).startswith(type(gate).__name__ + "(name=")
    assert GATE_TYPES[d["kind"]] is type(gate)


def test_gates_are_keyword_only_and_compare_by_value():
    with pytest.raises(TypeError):
        ErrorRateGate(0.01)  # type: ignore[misc]
    assert ErrorRateGate(max_rate=0.01) == ErrorRateGate(max_rate=0.01)
    assert ErrorRateGate(max_rate=0.01) != ErrorRateGate(max_rate=0.02)
    assert ErrorRateGate(max_rate=0.01) != ShadowAgreementGate(min_agreement=0.01)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ErrorRateGate(max_rate=1.5), "between 0 and 1"),
        (lambda: ErrorRateGate(max_rate=0.1, min_samples=-1), "min_samples"),
        (lambda: ErrorRateGate(max_rate=0.1, min_samples=True), "min_samples"),
        (lambda: LatencyGate(max_ms=0), "positive"),
        (lambda: LatencyGate(max_ms=float("inf")), "positive"),
        (lambda: LatencyGate(max_ms=10, quantile=0), "above 0"),
        (lambda: AccuracyGate(), "exactly one"),
        (lambda: AccuracyGate(min_accuracy=0.9, max_drop=0.1), "exactly one"),
        (lambda: DriftGate(max_score=float("nan")), "finite"),
        (lambda: ShadowAgreementGate(min_agreement=0.9, name=""), "name"),
    ],
)
def test_invalid_gate_definitions(make, match):
    with pytest.raises(InvalidInputError, match=match):
        make()


def test_gate_from_dict_rejects_unknown_kind_and_fields():
    with pytest.raises(InvalidInputError, match="unknown gate kind"):
        gate_from_dict({"kind": "vibes"})
    with pytest.raises(InvalidInputError, match="invalid 'error_rate' gate dict"):
        gate_from_dict({"kind": "error_rate", "max_rate": 0.1, "typo": 1})
    with pytest.raises(InvalidInputError, match="expected a 'latency' gate dict"):
        LatencyGate.from_dict({"kind": "error_rate", "max_rate": 0.1})


def test_latency_ratio_gate_compares_with_the_stable_version_over_the_same_window():
    rng = np.random.default_rng(4)
    base = rng.gamma(2.0, 20.0, 3000)
    slow_machine = 5.0  # a busy machine slows both versions alike: the ratio stays
    same, slower = stats(latencies=base * slow_machine), stats(latencies=rng.gamma(2.0, 20.0, 3000) * slow_machine)
    g = LatencyGate(max_ratio=1.5, min_samples=100)
    c = g.check(slower, same)
    assert c.status is PASS and c.baseline == pytest.approx(np.quantile(base * slow_machine, 0.99), rel=0.03)
    assert LatencyGate(max_ms=200, min_samples=100).check(slower, same).status is FAIL  # the absolute bound is not
    assert g.check(stats(latencies=base * slow_machine * 2), same).status is FAIL
    assert g.check(slower, stats(latencies=base[:50])).status is INSUFFICIENT  # the stable version's p99 needs its samples too
    assert g.check(slower, None).status is INSUFFICIENT
    both = LatencyGate(max_ms=100, max_ratio=1.5, min_samples=100)  # both bounds hold
    assert both.check(slower, same).status is FAIL and "100 ms" in both.check(slower, same).message
    assert LatencyGate.from_dict(both.to_dict()) == both
    with pytest.raises(InvalidInputError, match="max_ms, max_ratio"):
        LatencyGate()
