"""Drift statistics: exact mode equals scipy, sketch mode stays within its stated bounds (no Ray)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon as scipy_js

from raymlops.sketches import CategoricalSketch, NumericSketch
from raymlops.core.errors import InvalidInputError
from raymlops.sketches import ValueCounts
from raymlops.sketches.distances import (
    OTHER,
    binned_counts,
    category_counts,
    chi2,
    jensenshannon,
    jensenshannon_divergence,
    ks,
    ks_pvalue,
    linf,
    psi,
    quantile_cuts,
    wasserstein,
    wasserstein_normed,
    ztest,
)

TOL = 1e-9


def sketch(values, parts: int = 1, **kw) -> NumericSketch:
    """A sketch of ``values`` merged from ``parts`` replicas, as a monitor builds it."""
    pieces = []
    for chunk in np.array_split(np.asarray(values, dtype=np.float64), parts):
        s = NumericSketch(**kw)
        s.update(chunk)
        pieces.append(s)
    out = pieces[0]
    for p in pieces[1:]:
        out = out.merge(p)
    return out


def close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


# (name, reference, current) pairs drawn from one generator: shapes, sizes, ties, shifts
def _samples(seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(50, 4000)), int(rng.integers(50, 4000))
    return [
        ("normal", rng.normal(size=n), rng.normal(size=m)),
        ("normal shifted", rng.normal(size=n), rng.normal(0.3, 1.2, size=m)),
        ("lognormal", rng.lognormal(size=n), rng.lognormal(0.1, size=m)),
        ("exponential scaled", rng.exponential(5, size=n), rng.exponential(6, size=m)),
        ("integers with ties", rng.integers(-5, 6, n).astype(float), rng.integers(-4, 8, m).astype(float)),
        ("mixed signs and zeros", np.where(rng.random(n) < 0.2, 0.0, rng.normal(-1, 3, n)), rng.normal(0, 3, m)),
        ("uniform large offset", rng.uniform(1e4, 1e4 + 50, n), rng.uniform(1e4 + 5, 1e4 + 55, m)),
    ]


CASES = [case for seed in range(6) for case in _samples(seed)]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]


# ----------------------------------------------------------------- exact mode equals scipy


@pytest.mark.parametrize(("name", "a", "b"), CASES, ids=IDS)
def test_exact_ks_equals_scipy(name, a, b):
    ours, theirs = ks(a, b), sps.ks_2samp(a, b)
    assert close(ours.statistic, float(theirs.statistic))
    assert abs(ours.p_value - float(theirs.pvalue)) <= TOL
    assert ours.bound == 0.0


@pytest.mark.parametrize(
    ("n", "m"), [(7, 7), (300, 300), (10_000, 10_000), (123, 4567), (10_000, 10_001), (30_000, 30_000)]
)
def test_exact_ks_pvalue_equals_scipy_in_every_regime(n, m):
    rng = np.random.default_rng(n + m)
    for shift in (0.0, 0.05, 0.2, 1.0):
        a, b = rng.normal(size=n), rng.normal(shift, size=m)
        ours, theirs = ks(a, b), sps.ks_2samp(a, b)
        assert close(ours.statistic, float(theirs.statistic))
        assert abs(ours.p_value - float(theirs.pvalue)) <= TOL, (shift, ours, theirs)


def test_ks_pvalue_matches_scipy_for_large_samples():
    """The vectorised Smirnov series (20,000 < n <= 1e6) agrees with scipy's kstwo."""
    grid = [(25_000, z) for z in (0.5, 1.2, 1.49, 1.5, 2.0, 3.0, 6.0, 19.0)]
    grid += [(150_000, 1.6), (150_000, 4.0), (999_999, 2.0), (1_000_001, 2.0)]
    for n, z in grid:
        d = z / math.sqrt(n)
        # two samples of size 2n have an effective size n
        assert abs(ks_pvalue(d, 2 * n, 2 * n) - float(sps.kstwo.sf(d, n))) <= 1e-10, (n, z)


@pytest.mark.parametrize(("name", "a", "b"), CASES, ids=IDS)
def test_exact_wasserstein_equals_scipy(name, a, b):
    w = float(sps.wasserstein_distance(a, b))
    assert close(wasserstein(a, b).statistic, w, 1e-9)
    assert close(wasserstein_normed(a, b).statistic, w / max(float(np.std(a)), 0.001), 1e-9)


def test_wasserstein_normed_floors_the_std_at_a_thousandth():
    assert wasserstein_normed([1.0, 1.0], [1.0, 1.002]).statistic == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(25))
def test_chi2_equals_scipy_chi2_contingency(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 9))
    r, c = rng.integers(1, 400, k), rng.integers(1, 400, k)
    ours = chi2(r, c)
    stat, p, dof, _ = sps.chi2_contingency(np.vstack([r, c]))
    assert close(ours.statistic, float(stat)) and abs(ours.p_value - float(p)) <= TOL
    # categories empty on both sides are dropped, as scipy would refuse them
    z = np.zeros(1, dtype=int)
    assert chi2(np.concatenate([r, z]), np.concatenate([c, z])) == ours


@pytest.mark.parametrize("seed", range(25))
def test_jensenshannon_equals_scipy(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 30))
    p, q = rng.integers(0, 50, k), rng.integers(0, 50, k)
    p[0], q[0] = p[0] + 1, q[0] + 1  # not all zero
    assert close(jensenshannon(p, q), float(scipy_js(p, q)))
    assert close(jensenshannon(p, q, base=2), float(scipy_js(p, q, base=2)))
    assert close(jensenshannon_divergence(p, q), float(scipy_js(p, q, base=2)) ** 2)
    assert 0.0 <= jensenshannon_divergence(p, q) <= 1.0


def test_ztest_squared_is_the_uncorrected_chi2_on_two_categories():
    rng = np.random.default_rng(3)
    for _ in range(20):
        r, c = rng.integers(1, 500, 2), rng.integers(1, 500, 2)
        z = ztest(r, c)
        stat, p, _, _ = sps.chi2_contingency(np.vstack([r, c]), correction=False)
        assert close(z.statistic**2, float(stat)) and abs(z.p_value - float(p)) <= TOL
    assert ztest([10], [20]) == (0.0, 1.0, 0.0)  # one category: nothing to compare
    with pytest.raises(InvalidInputError, match="chi2"):
        ztest([1, 2, 3], [3, 2, 1])


def test_psi_and_linf_follow_their_formulas():
    p, q = np.array([10, 30, 60]), np.array([20, 30, 50])
    pp, qq = p / p.sum(), q / q.sum()
    assert close(psi(p, q), float(np.sum((qq - pp) * np.log(qq / pp))))
    assert close(linf(p, q), 0.1)
    # an empty bin is smoothed (Evidently's rule), not infinite
    assert math.isfinite(psi([10, 0], [5, 5])) and psi([10, 0], [5, 5]) > 1.0
    assert psi(p, p) == 0.0 and linf(p, 2 * p) == 0.0


def test_exact_mode_ignores_nulls_nan_and_infinities_in_every_input_type():
    clean = np.array([0.5, 1.5, 2.5, 3.5])
    other = np.array([1.0, 2.0, 3.0])
    dirty = [
        np.array([0.5, np.nan, 1.5, np.inf, 2.5, -np.inf, 3.5]),
        pd.Series([0.5, None, 1.5, 2.5, 3.5], dtype="Float64"),
        pa.array([0.5, None, 1.5, 2.5, 3.5]),
        [0.5, None, 1.5, float("nan"), 2.5, 3.5],
    ]
    want = ks(clean, other)
    for values in dirty:
        assert ks(values, other) == want
        assert wasserstein(values, other) == wasserstein(clean, other)
    original = dirty[0].copy()
    ks(dirty[0], other)
    np.testing.assert_array_equal(dirty[0], original)  # inputs are never sorted in place


def test_empty_or_mismatched_inputs_are_refused_with_a_reason():
    with pytest.raises(InvalidInputError, match="no finite values"):
        ks([np.nan], [1.0])
    with pytest.raises(InvalidInputError, match="relative_accuracy"):
        ks(sketch([1.0, 2.0]), sketch([1.0, 2.0], relative_accuracy=0.02))
    with pytest.raises(InvalidInputError, match="category_counts"):
        wasserstein(CategoricalSketch(), sketch([1.0]))
    with pytest.raises(InvalidInputError, match="aligned"):
        psi([1, 2], [1, 2, 3])


# ----------------------------------------------------------------- sketch mode within bounds


@pytest.mark.parametrize(("name", "a", "b"), CASES, ids=IDS)
def test_sketch_ks_is_within_its_bound_of_exact(name, a, b):
    exact = ks(a, b)
    approx = ks(sketch(a, parts=3), sketch(b, parts=2))
    ref, cur = sketch(a), sketch(b)
    largest = ref.bins()[2].max() / ref.count + cur.bins()[2].max() / cur.count
    assert approx.bound == pytest.approx(largest)
    assert abs(approx.statistic - exact.statistic) <= approx.bound + 1e-12
    assert approx.p_value == ks_pvalue(approx.statistic, a.size, b.size)


@pytest.mark.parametrize(("name", "a", "b"), CASES, ids=IDS)
def test_sketch_wasserstein_is_within_its_bound_of_exact(name, a, b):
    exact, approx = wasserstein(a, b), wasserstein(sketch(a, parts=4), sketch(b))
    stated = sum(0.01 * np.abs(x).mean() + sketch(x).min_indexable for x in (a, b))
    assert abs(approx.statistic - exact.statistic) <= approx.bound
    assert approx.bound >= stated * (1 - 1e-12)  # the bound used is never tighter than a*mean|x| + m
    normed_exact, normed = wasserstein_normed(a, b), wasserstein_normed(sketch(a), sketch(b))
    assert abs(normed.statistic - normed_exact.statistic) <= normed.bound


@pytest.mark.parametrize(("name", "a", "b"), CASES, ids=IDS)
def test_binned_statistics_are_identical_in_both_modes(name, a, b):
    cuts, rc, cc = binned_counts(a, b)
    s_cuts, s_rc, s_cc = binned_counts(sketch(a, parts=3), sketch(b, parts=2))
    np.testing.assert_array_equal(cuts, s_cuts)
    np.testing.assert_array_equal(rc, s_rc)
    np.testing.assert_array_equal(cc, s_cc)
    assert rc.sum() == a.size and cc.sum() == b.size
    assert psi(rc, cc) == psi(s_rc, s_cc)
    assert jensenshannon(rc, cc) == jensenshannon(s_rc, s_cc)
    # a raw side next to a sketch is sketched: same counts again
    np.testing.assert_array_equal(binned_counts(a, sketch(b))[2], cc)


def test_quantile_cuts_snap_reference_quantiles_up_to_bucket_edges():
    rng = np.random.default_rng(11)
    x = rng.lognormal(size=10_000)
    cuts = quantile_cuts(x, bins=10)
    q = np.sort(x)[np.floor(np.arange(1, 10) / 10 * (x.size - 1)).astype(int)]
    assert cuts.size == 9
    assert np.all(cuts >= q) and np.all(cuts <= q * 1.0203)  # within one 2% bucket above
    lo, hi, _ = sketch(x).bins()
    assert set(cuts.tolist()) <= set(hi.tolist())  # every cut is a DDSketch bucket edge
    # each reference bin holds about a tenth of the values
    _, rc, _ = binned_counts(x, x)
    assert rc.size == 10 and np.all(np.abs(rc / x.size - 0.1) < 0.01)


def test_negative_cuts_use_the_open_edge_of_negative_buckets():
    x = np.array([-3.0, -2.0, -2.0, -1.0, 0.0, 1.0, 2.0, 2.0, 3.0])
    cuts, rc, cc = binned_counts(x, -x, bins=9)
    _, src, scc = binned_counts(sketch(x), sketch(-x), bins=9)
    assert rc.tolist() == src.tolist() and cc.tolist() == scc.tolist()
    assert (cuts < 0).any() and (cuts > 0).any()


def test_categorical_counts_are_identical_from_raw_values_and_sketches():
    rng = np.random.default_rng(5)
    a, b = rng.choice(list("abcde"), 3000), rng.choice(list("abcdef"), 2000, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1])
    sa, sb = CategoricalSketch(), CategoricalSketch()
    sa.update(a)
    sb.update(b)
    raw, sk, mixed = category_counts(a, b), category_counts(sa, sb), category_counts(a, sb)
    assert raw[0] == sk[0] == mixed[0] == list("abcdef")
    for x, y in ((raw, sk), (raw, mixed)):
        np.testing.assert_array_equal(x[1], y[1])
        np.testing.assert_array_equal(x[2], y[2])
    assert chi2(raw[1], raw[2]) == chi2(sk[1], sk[2])
    table = np.vstack([raw[1], raw[2]])
    stat, p, _, _ = sps.chi2_contingency(table)
    assert close(chi2(sk[1], sk[2]).statistic, float(stat))


def test_a_truncated_categorical_sketch_counts_its_other_bucket_as_one_category():
    s = CategoricalSketch(max_categories=2)
    s.update(["a", "a", "b", "c", "d"])
    keys, counts, _ = category_counts(s, ["a"])
    assert OTHER in keys and counts.sum() == 5


# ----------------------------------------------------------------- ValueCounts


def test_value_counts_decides_few_distinct_values_exactly_under_merging():
    parts = [np.array([0.0, 1.0, 1.0]), np.array([2.0, np.nan]), np.array([3.0, 4.0])]
    vcs = []
    for p in parts:
        v = ValueCounts(max_values=4)
        v.update(p)
        vcs.append(v)
    two = vcs[0].merge(vcs[1])
    assert two.distinct == 3 and two.counts == {0.0: 1, 1.0: 2, 2.0: 1} and two.count == 4
    three = two.merge(vcs[2])
    assert three.saturated and three.distinct is None and three.count == 6
    whole = ValueCounts(max_values=4)
    whole.update(np.concatenate(parts))
    assert whole == three
    again = ValueCounts.from_dict(json.loads(json.dumps(two.to_dict())))
    assert again == two
    big = ValueCounts(max_values=5)
    big.update(np.random.default_rng(0).normal(size=100_000))
    assert big.saturated and big.count == 100_000


def test_value_counts_refuses_to_give_counts_once_saturated():
    v = ValueCounts(max_values=1)
    v.update([1.0, 2.0])
    with pytest.raises(InvalidInputError, match="distinct values"):
        category_counts(v, v)
