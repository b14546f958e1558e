"""Shadow comparison: pairing in any order, bounded memory, agreement, distances, latency, merging."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from raymlops.core.errors import InvalidInputError
from raymlops.serving.gates import ShadowAgreementGate, VersionStats
from raymlops.serving.shadow import ShadowComparator
from raymlops.sketches import NumericSketch
from raymlops.sketches.distances import binned_counts
from raymlops.sketches.distances import jensenshannon as sketch_jensenshannon


def js_distance(p, q) -> float:
    """The distance the shadow comparison computes: the sketches' Jensen-Shannon, base 2."""
    return sketch_jensenshannon(p, q, base=2)


def test_pairs_in_either_order():
    c = ShadowComparator()
    assert c.add_primary("a", ["x"], now=0) is False
    assert c.add_shadow("a", ["x"], now=1) is True
    assert c.add_shadow("b", ["y"], now=2) is False
    assert c.add_primary("b", ["z"], now=3) is True
    assert (c.pairs, c.compared, c.agree, c.agreement, c.pending) == (2, 2, 1, 0.5, 0)


def test_ttl_expiry_counts_each_side():
    c = ShadowComparator(ttl_s=10)
    c.add_primary("p1", [1], now=0)
    c.add_shadow("s1", [1], now=5)
    c.add_primary("p2", [1], now=9)
    assert c.expire(now=9.9) == 0
    assert c.expire(now=10) == 1  # p1 waited 10 s
    c.add_shadow("p2", [1], now=14)  # s1 expires first (15 > 14? no: 14 - 5 = 9 < 10), p2 pairs
    assert c.pairs == 1
    assert c.expire(now=15) == 1
    s = c.summary()["unmatched"]
    assert s == {"expired_primary": 1, "expired_shadow": 1, "evicted_primary": 0, "evicted_shadow": 0}
    assert c.pending == 0


def test_late_arrival_after_expiry_is_unmatched():
    c = ShadowComparator(ttl_s=1)
    c.add_primary("r", [1], now=0)
    assert c.add_shadow("r", [1], now=5) is False  # the primary expired on this call
    assert c.summary()["unmatched"]["expired_primary"] == 1 and c.pending == 1


def test_memory_is_bounded_and_evictions_counted():
    c = ShadowComparator(max_pending=100, ttl_s=1e9)
    for i in range(250):
        c.add_primary(f"r{i}", [0], now=i)
    assert c.pending == 100
    assert c.summary()["unmatched"]["evicted_primary"] == 150
    assert c.add_shadow("r0", [0], now=300) is False  # evicted long ago
    assert c.add_shadow("r249", [0], now=300) is True


def test_duplicates_are_counted_not_paired_twice():
    c = ShadowComparator()
    c.add_primary("r", ["a"], now=0)
    c.add_primary("r", ["b"], now=0)
    c.add_shadow("r", ["a"], now=0)
    assert (c.pairs, c.agree, c.summary()["duplicates"]) == (1, 1, 1)


def test_shadow_errors_consume_the_pair():
    c = ShadowComparator(ttl_s=10)
    c.add_primary("r1", [1], now=0)
    assert c.add_shadow("r1", error=True, now=1) is True
    c.add_shadow("r2", error=True, now=2)  # before the primary
    c.add_primary("r2", [1], now=3)
    c.expire(now=100)
    s = c.summary()
    assert (s["shadow_errors"], s["pairs"], s["compared"], s["unmatched"]["expired_primary"]) == (2, 2, 0, 0)
    assert s["agreement"] is None


def test_length_mismatch_is_counted_and_not_compared():
    c = ShadowComparator()
    c.add_primary("r", [1, 2], now=0)
    c.add_shadow("r", [1], now=0)
    assert (c.pairs, c.compared, c.summary()["length_mismatches"]) == (1, 0, 1)


def test_batch_predictions_compare_element_wise_and_accept_numpy():
    c = ShadowComparator()
    c.add_primary("r", np.array([0, 1, 1, 2]), now=0)
    c.add_shadow("r", [np.int64(0), 1, 2, 2], now=0)
    assert (c.compared, c.agree) == (4, 3)
    c.add_primary("s", "cat", now=0)  # a single prediction
    c.add_shadow("s", "cat", now=0)
    assert (c.compared, c.agree) == (5, 4)


def test_regression_agreement_with_tolerance():
    c = ShadowComparator(task="regression", tolerance=0.1)
    c.add_primary("r", [1.0, 2.0, 3.0, float("nan")], now=0)
    c.add_shadow("r", [1.05, 2.2, 3.0, float("nan")], now=0)
    assert (c.compared, c.agree) == (4, 2)  # NaN never agrees


def test_classification_distance_matches_scipy():
    rng = np.random.default_rng(0)
    c = ShadowComparator()
    p = rng.choice(["a", "b", "c"], 5000, p=[0.5, 0.3, 0.2])
    s = rng.choice(["a", "b", "c", "d"], 5000, p=[0.4, 0.3, 0.2, 0.1])
    for i in range(0, 5000, 50):
        c.add_primary(str(i), list(p[i : i + 50]), now=0)
        c.add_shadow(str(i), list(s[i : i + 50]), now=0)
    keys = ["a", "b", "c", "d"]
    cp = [int((p == k).sum()) for k in keys]
    cs = [int((s == k).sum()) for k in keys]
    assert c.distance() == pytest.approx(jensenshannon(cp, cs, base=2), abs=1e-12)


def test_regression_distance_is_jensen_shannon_on_the_primary_quantile_bins():
    rng = np.random.default_rng(6)
    p, s = rng.normal(10, 2, 1000), rng.normal(11, 2, 1000)
    c = ShadowComparator(task="regression", bins=4)
    c.add_primary("r", p, now=0)
    c.add_shadow("r", s, now=0)
    # the counts of both sides in the primary's 4 quantile bins, from the raw values
    _, cp, cs = binned_counts(p, s, bins=4)
    assert cp.sum() == cs.sum() == 1000 and len(cp) == 4
    assert c.distance() == pytest.approx(jensenshannon(cp, cs, base=2), abs=1e-12)
    # a shadow beyond the primary's extremes falls in its last bin, with all its mass
    far = ShadowComparator(task="regression")
    primary = np.linspace(1.0, 100.0, 200)
    far.add_primary("r", primary, now=0)
    far.add_shadow("r", primary + 1000.0, now=0)
    _, fp, fs = binned_counts(primary, primary + 1000.0, bins=20)
    assert fs[-1] == 200 and fs[:-1].sum() == 0
    assert far.distance() == pytest.approx(jensenshannon(fp, fs, base=2), abs=1e-12)
    assert far.distance() > 0.9
    tail = ShadowComparator(task="regression", bins=2)
    tail.add_primary("r", [1.0, 2.0, 3.0, 4.0], now=0)
    tail.add_shadow("r", [1.0, 2.0, 3.0, 100.0], now=0)
    assert tail.distance() == 0.0  # 100 lies beyond the primary's last cut, in its last bin with 3 and 4


def test_regression_distance_separates_noise_from_shift():
    rng = np.random.default_rng(1)
    same, shifted = ShadowComparator(task="regression"), ShadowComparator(task="regression")
    p, q = rng.lognormal(0, 1, 4000), rng.lognormal(0, 1, 4000)
    same.add_primary("r", p, now=0)
    same.add_shadow("r", p, now=0)
    assert same.distance() == 0.0
    noise = ShadowComparator(task="regression")
    noise.add_primary("r", p, now=0)
    noise.add_shadow("r", q, now=0)  # another sample of the same distribution
    shifted.add_primary("r", p, now=0)
    shifted.add_shadow("r", p * 1.5, now=0)
    assert noise.distance() < 0.06 < 0.12 < shifted.distance()


def test_regression_merge_keeps_the_distance():
    rng = np.random.default_rng(5)
    p = rng.normal(10, 2, 3000)
    s = p + rng.normal(0.5, 0.3, 3000)
    whole = ShadowComparator(task="regression", tolerance=0.5)
    parts = [ShadowComparator(task="regression", tolerance=0.5) for _ in range(3)]
    for i in range(3000):
        for c in (whole, parts[i % 3]):
            c.add_primary(str(i), [p[i]], now=0)
            c.add_shadow(str(i), [s[i]], now=0)
    merged = parts[0] + parts[1] + parts[2]
    assert merged == whole and merged.agree == whole.agree
    assert merged.distance() == whole.distance() > 0


@settings(max_examples=100, deadline=None)
@given(
    pq=st.integers(min_value=1, max_value=8).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(min_value=0, max_value=1000), min_size=n, max_size=n).filter(lambda v: sum(v) > 0),
            st.lists(st.integers(min_value=0, max_value=1000), min_size=n, max_size=n).filter(lambda v: sum(v) > 0),
        )
    )
)
def test_js_distance_matches_scipy_and_is_bounded(pq):
    p, q = pq
    d = js_distance(p, q)
    assert 0.0 <= d <= 1.0
    assert d == pytest.approx(jensenshannon(p, q, base=2), abs=1e-7)
    assert js_distance(q, p) == pytest.approx(d, abs=1e-12)


def test_js_distance_invalid():
    with pytest.raises(InvalidInputError):
        js_distance([1, 2], [1])
    with pytest.raises(InvalidInputError):
        js_distance([0, 0], [1, 1])
    with pytest.raises(InvalidInputError):
        js_distance([-1, 2], [1, 1])


def test_distance_none_without_pairs():
    assert ShadowComparator().distance() is None
    assert ShadowComparator(task="regression").distance() is None


def test_latency_percentiles_per_side():
    rng = np.random.default_rng(2)
    c = ShadowComparator()
    lp, ls = rng.gamma(2, 10, 2000), rng.gamma(2, 15, 2000)
    for i in range(2000):
        c.add_primary(str(i), [0], now=0, latency_ms=float(lp[i]))
        c.add_shadow(str(i), [0], now=0, latency_ms=float(ls[i]))
    lat = c.latency()
    for side, x in (("primary", lp), ("shadow", ls)):
        for q, name in ((0.5, "p50"), (0.99, "p99")):
            true = np.quantile(x, q, method="lower")
            assert abs(lat[side][name] - true) <= 0.01 * true + 1e-12
        assert lat[side]["count"] == 2000
    assert lat["p99_diff"] == pytest.approx(lat["shadow"]["p99"] - lat["primary"]["p99"])
    empty = ShadowComparator().latency()
    assert empty["primary"] == {"count": 0, "p50": None, "p99": None} and empty["p50_diff"] is None


def _stream(seed: int, n: int = 600):
    rng = np.random.default_rng(seed)
    events = []
    for i in range(n):
        label = int(rng.integers(3))
        other = label if rng.random() < 0.9 else int(rng.integers(3))
        events.append(("primary", f"r{i}", [label], float(rng.gamma(2, 5))))
        if rng.random() < 0.95:
            events.append(("shadow", f"r{i}", [other], float(rng.gamma(2, 7))))
    return events


def _feed(c: ShadowComparator, events, now: float = 0.0) -> None:
    for side, rid, preds, lat in events:
        if side == "primary":
            c.add_primary(rid, preds, now=now, latency_ms=lat)
        else:
            c.add_shadow(rid, preds, now=now, latency_ms=lat)


def test_merge_across_replicas_equals_one_comparator():
    events = _stream(3)
    whole = ShadowComparator()
    _feed(whole, events)
    whole.expire(now=1000)
    # each replica sees the requests it served; replicas flush to a monitor that merges
    parts = [ShadowComparator() for _ in range(3)]
    for i, e in enumerate(events):
        _feed(parts[int(e[1][1:]) % 3], [e])
    for p in parts:
        p.expire(now=1000)
    merged = ShadowComparator.from_dict(json.loads(json.dumps(parts[0].flush())))
    for p in parts[1:]:
        merged += ShadowComparator.from_dict(json.loads(json.dumps(p.to_dict())))
    assert merged == whole
    assert merged.summary() == whole.summary()
    assert parts[0].pairs == 0 and parts[0].pending == 0  # flushed


def test_in_process_merge_pairs_pending_answers():
    a, b = ShadowComparator(), ShadowComparator()
    a.add_primary("r", ["x"], now=0)
    b.add_shadow("r", ["x"], now=0)
    m = a.merge(b)
    assert (m.pairs, m.agree, m.pending) == (1, 1, 0)
    assert (a.pairs, a.pending) == (0, 1)  # merge() leaves the inputs alone


def test_merge_rejects_different_configuration():
    with pytest.raises(InvalidInputError, match="cannot merge"):
        ShadowComparator().merge(ShadowComparator(task="regression"))
    with pytest.raises(InvalidInputError, match="cannot merge"):
        ShadowComparator().merge(VersionStats())  # type: ignore[arg-type]


def test_summary_is_json_and_feeds_the_agreement_gate():
    c = ShadowComparator()
    _feed(c, _stream(4, 300))
    s = json.loads(json.dumps(c.summary(), allow_nan=False))
    assert s["task"] == "classification" and s["pairs"] == c.pairs
    stats = VersionStats()
    agree, total = c.agreement_counts()
    stats.record_shadow(agree=agree, total=total)
    check = ShadowAgreementGate(min_agreement=0.8, min_samples=100).check(stats)
    assert check.status.value == "PASS" and check.value == pytest.approx(c.agreement)
    assert "ShadowComparator(task='classification'" in repr(c)


def test_invalid_arguments():
    with pytest.raises(InvalidInputError, match="task"):
        ShadowComparator(task="ranking")
    with pytest.raises(InvalidInputError, match="ttl_s"):
        ShadowComparator(ttl_s=-1)
    with pytest.raises(InvalidInputError, match="max_pending"):
        ShadowComparator(max_pending=0)
    with pytest.raises(InvalidInputError, match="bins"):
        ShadowComparator(bins=0)
    with pytest.raises(InvalidInputError, match="bins"):
        ShadowComparator(bins=1)  # quantile bins need at least one cut
    c = ShadowComparator()
    with pytest.raises(InvalidInputError, match="now"):
        c.add_primary("r", [1], now=float("nan"))
    with pytest.raises(InvalidInputError, match="request_id"):
        c.add_primary(5, [1], now=0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="exactly the keys"):
        ShadowComparator.from_dict({"task": "classification"})
