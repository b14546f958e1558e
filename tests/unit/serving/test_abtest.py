"""A/B significance tests against direct formulas and scipy.stats; mergeable summaries."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from raymlops.core.errors import InvalidInputError
from raymlops.serving.abtest import (
    RunningSummary,
    Summary,
    chi_square_test,
    required_samples,
    two_proportion_ztest,
    welch_ttest,
)

COUNTS = [(200, 2000, 250, 2000), (5, 40, 12, 37), (480, 1000, 455, 1000), (1, 10_000, 9, 9_000), (30, 30, 29, 31)]


def phi_inv(p: float) -> float:
    return float(stats.norm.ppf(p))


@pytest.mark.parametrize("sa, na, sb, nb", COUNTS)
def test_ztest_matches_the_direct_formula(sa, na, sb, nb):
    r = two_proportion_ztest(successes_a=sa, n_a=na, successes_b=sb, n_b=nb, alpha=0.1)
    pa, pb = sa / na, sb / nb
    p = (sa + sb) / (na + nb)
    z = (pb - pa) / math.sqrt(p * (1 - p) * (1 / na + 1 / nb))
    assert r.statistic == pytest.approx(z, rel=1e-12)
    assert r.p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-9, abs=1e-300)
    se = math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    half = phi_inv(0.95) * se
    assert r.ci == pytest.approx((pb - pa - half, pb - pa + half), rel=1e-12)
    assert (r.effect, r.estimate_a, r.estimate_b, r.n_a, r.n_b) == (pb - pa, pa, pb, na, nb)
    assert r.lift == pytest.approx((pb - pa) / pa)
    assert r.confidence == pytest.approx(0.9) and r.significant == (r.p_value < 0.1)


@pytest.mark.parametrize("sa, na, sb, nb", COUNTS)
def test_chi_square_without_yates_equals_z_squared(sa, na, sb, nb):
    z = two_proportion_ztest(successes_a=sa, n_a=na, successes_b=sb, n_b=nb)
    c = chi_square_test(successes_a=sa, n_a=na, successes_b=sb, n_b=nb)
    assert c.statistic == pytest.approx(z.statistic**2, rel=1e-9)
    assert c.p_value == pytest.approx(z.p_value, rel=1e-9, abs=1e-300)
    assert c.ci == z.ci and c.df == 1.0 and c.test == "chi_square"
    table = np.array([[sa, na - sa], [sb, nb - sb]], dtype=float)
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    assert c.statistic == pytest.approx(((table - expected) ** 2 / expected).sum(), rel=1e-9)
    assert c.p_value == pytest.approx(float(stats.chi2.sf(c.statistic, 1)), rel=1e-9, abs=1e-300)
    yates = stats.chi2_contingency(table, correction=True).statistic
    assert yates < c.statistic  # we do not apply Yates' correction


def test_identical_outcomes_give_p_one():
    for s in (0, 50):
        z = two_proportion_ztest(successes_a=s, n_a=50, successes_b=s * 2, n_b=100)
        c = chi_square_test(successes_a=s, n_a=50, successes_b=s * 2, n_b=100)
        assert (z.statistic, z.p_value, c.statistic, c.p_value) == (0.0, 1.0, 0.0, 1.0)
        assert not z.significant


def test_lift_is_none_when_a_has_a_zero_rate():
    r = two_proportion_ztest(successes_a=0, n_a=100, successes_b=5, n_b=100)
    assert r.lift is None and r.effect == 0.05
    assert json.loads(json.dumps(r.to_dict()))["lift"] is None


def test_sample_size_flag():
    r = two_proportion_ztest(successes_a=10, n_a=100, successes_b=20, n_b=99, min_samples=100)
    assert r.sufficient is False and not r.conclusive
    assert two_proportion_ztest(successes_a=10, n_a=100, successes_b=20, n_b=100).sufficient is None
    assert two_proportion_ztest(successes_a=10, n_a=100, successes_b=20, n_b=100, min_samples=100).sufficient


def test_wald_interval_covers_about_the_confidence_level():
    rng = np.random.default_rng(0)
    pa, pb, n, reps = 0.3, 0.35, 800, 1500
    sa, sb = rng.binomial(n, pa, reps), rng.binomial(n, pb, reps)
    hits = 0
    for a, b in zip(sa, sb):
        lo, hi = two_proportion_ztest(successes_a=int(a), n_a=n, successes_b=int(b), n_b=n).ci
        hits += lo <= pb - pa <= hi
    assert abs(hits / reps - 0.95) < 0.02


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"successes_a": 5, "n_a": 0, "successes_b": 1, "n_b": 10}, "n_a"),
        ({"successes_a": 11, "n_a": 10, "successes_b": 1, "n_b": 10}, "more than n_a"),
        ({"successes_a": -1, "n_a": 10, "successes_b": 1, "n_b": 10}, "successes_a"),
        ({"successes_a": 1.5, "n_a": 10, "successes_b": 1, "n_b": 10}, "successes_a"),
        ({"successes_a": 1, "n_a": 10, "successes_b": 1, "n_b": 10, "alpha": 0}, "alpha"),
        ({"successes_a": 1, "n_a": 10, "successes_b": 1, "n_b": 10, "min_samples": -5}, "min_samples"),
    ],
)
def test_invalid_counts(kwargs, match):
    for fn in (two_proportion_ztest, chi_square_test):
        with pytest.raises(InvalidInputError, match=match):
            fn(**kwargs)


# --------------------------------------------------------------------------- Welch


@pytest.mark.parametrize("seed", range(6))
def test_welch_from_summaries_equals_scipy_on_raw_data(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(10, rng.uniform(0.5, 3), int(rng.integers(5, 400)))
    b = rng.normal(10.3, rng.uniform(0.5, 3), int(rng.integers(5, 400)))
    sa, sb = RunningSummary(), RunningSummary()
    sa.update(a)
    for x in b:
        sb.add(float(x))
    r = welch_ttest(sa, sb, alpha=0.05)
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-9, abs=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)
    assert r.df == pytest.approx(ref.df, rel=1e-9)
    ci = ref.confidence_interval(0.95)
    assert r.ci == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-12)
    assert r.effect == pytest.approx(b.mean() - a.mean(), rel=1e-9, abs=1e-12)
    assert r.lift == pytest.approx((b.mean() - a.mean()) / a.mean(), rel=1e-9, abs=1e-12)
    # tuples and Summary objects give the same result
    tup = welch_ttest((len(a), a.mean(), a.var(ddof=1)), Summary(len(b), b.mean(), b.var(ddof=1)))
    assert tup.p_value == pytest.approx(r.p_value, rel=1e-9, abs=1e-12)


def test_welch_matches_the_direct_formula():
    a, b = Summary(30, 5.0, 4.0), Summary(50, 6.0, 9.0)
    r = welch_ttest(a, b, alpha=0.01, min_samples=40)
    va, vb = 4 / 30, 9 / 50
    t = 1 / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / 29 + vb**2 / 49)
    assert r.statistic == pytest.approx(t) and r.df == pytest.approx(df)
    assert r.p_value == pytest.approx(2 * stats.t.sf(t, df))
    half = stats.t.ppf(0.995, df) * math.sqrt(va + vb)
    assert r.ci == pytest.approx((1 - half, 1 + half))
    assert r.sufficient is False and r.confidence == pytest.approx(0.99)


def test_welch_zero_variance():
    same = welch_ttest(Summary(5, 1.0, 0.0), Summary(5, 1.0, 0.0))
    assert (same.statistic, same.p_value, same.ci) == (0.0, 1.0, (0.0, 0.0))
    diff = welch_ttest(Summary(5, 1.0, 0.0), Summary(5, 2.0, 0.0))
    assert (diff.statistic, diff.p_value, diff.ci) == (math.inf, 0.0, (1.0, 1.0))
    d = json.loads(json.dumps(diff.to_dict()))
    assert d["statistic"] == "inf" and d["df"] == "nan"


@pytest.mark.parametrize(
    "a, match",
    [
        (Summary(1, 0.0, 0.0), "n of variant A"),
        (Summary(5, float("nan"), 1.0), "finite mean"),
        (Summary(5, 0.0, -1.0), "non-negative variance"),
        ("abc", "RunningSummary, a Summary"),
    ],
)
def test_welch_invalid_summaries(a, match):
    with pytest.raises(InvalidInputError, match=match):
        welch_ttest(a, Summary(5, 0.0, 1.0))


# --------------------------------------------------------------------------- RunningSummary


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=2, max_size=200),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=4),
)
def test_running_summary_merges_like_one_stream(values, cuts):
    bounds = sorted({min(c, len(values)) for c in cuts} | {0, len(values)})
    parts = []
    for lo, hi in zip(bounds, bounds[1:]):
        s = RunningSummary()
        s.update(values[lo:hi])
        parts.append(s)
    merged = RunningSummary()
    for p in parts:
        merged += p
    whole = RunningSummary()
    for x in values:
        whole.add(x)
    x = np.array(values)
    assert merged.n == whole.n == len(values)
    scale = float(np.abs(x).max()) + 1.0
    assert merged.mean == pytest.approx(x.mean(), rel=1e-9, abs=1e-9 * scale)
    assert whole.mean == pytest.approx(x.mean(), rel=1e-9, abs=1e-9 * scale)
    assert merged.variance == pytest.approx(x.var(ddof=1), rel=1e-7, abs=1e-9 * scale**2)
    assert whole.variance == pytest.approx(x.var(ddof=1), rel=1e-7, abs=1e-9 * scale**2)


def test_running_summary_roundtrip_and_equality():
    s = RunningSummary()
    s.update([1.0, 2.0, 4.0])
    back = RunningSummary.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s and back.summary() == Summary(3, s.mean, s.variance)
    assert RunningSummary().variance != RunningSummary().variance  # NaN with < 2 values
    assert (s + RunningSummary()) == s and "n=3" in repr(s)
    with pytest.raises(InvalidInputError, match="exactly the keys"):
        RunningSummary.from_dict({"n": 1})
    with pytest.raises(InvalidInputError, match="non-negative"):
        RunningSummary.from_dict({"n": 2, "mean": 0.0, "m2": -1.0})


def test_running_summary_rejects_non_finite():
    s = RunningSummary()
    with pytest.raises(InvalidInputError):
        s.add(float("nan"))
    with pytest.raises(InvalidInputError):
        s.update([1.0, float("inf")])
    with pytest.raises(InvalidInputError):
        s.add(True)  # type: ignore[arg-type]
    assert s.n == 0


# --------------------------------------------------------------------------- planning


def test_required_samples_direct_formula_and_known_values():
    assert required_samples(0.10, 0.02) == 3841  # the textbook 10 % -> 12 % figure
    p1, p2 = 0.2, 0.25
    pbar = (p1 + p2) / 2
    za, zb = phi_inv(0.995), phi_inv(0.9)
    n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / 0.05**2
    assert required_samples(0.2, 0.05, alpha=0.01, power=0.9) == math.ceil(n)
    assert required_samples(0.5, -0.05) == required_samples(0.45, 0.05)  # symmetric in direction


def test_required_samples_gives_the_planned_power():
    p1, mde = 0.1, 0.03
    n = required_samples(p1, mde, alpha=0.05, power=0.8)
    rng = np.random.default_rng(1)
    reps = 1500
    sa, sb = rng.binomial(n, p1, reps), rng.binomial(n, p1 + mde, reps)
    power = np.mean(
        [two_proportion_ztest(successes_a=int(a), n_a=n, successes_b=int(b), n_b=n).significant for a, b in zip(sa, sb)]
    )
    assert abs(power - 0.8) < 0.04


@pytest.mark.parametrize(
    "args, match",
    [((0.0, 0.1), "p_baseline"), ((0.5, 0.0), "mde"), ((0.95, 0.1), "between 0 and 1"), ((0.5, 0.1, 0.05, 1.0), "power")],
)
def test_required_samples_invalid(args, match):
    with pytest.raises(InvalidInputError, match=match):
        required_samples(*args)
