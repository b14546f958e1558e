"""Drift presets: each rule picks its stated test, verdicts follow the data, sketch mode agrees (no Ray)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from raymlops.sketches import Profile
from raymlops.sketches import NumericSketch
from raymlops.core.errors import InvalidInputError
from raymlops.monitoring import TESTS, ColumnDrift, DriftReport, judge, judge_column
from raymlops.sketches import ValueCounts

MODES = ["exact", "sketch"]


def profile(df: pd.DataFrame, parts: int = 3) -> Profile:
    """The profile a monitor holds after merging ``parts`` replicas' sketches of ``df``."""
    pieces = []
    for chunk in np.array_split(np.arange(len(df)), parts):
        p = Profile()
        p.update(df.iloc[chunk])
        pieces.append(p)
    out = pieces[0]
    for p in pieces[1:]:
        out = out.merge(p)
    return out


def sides(mode: str, ref: pd.DataFrame, cur: pd.DataFrame):
    return (ref, cur) if mode == "exact" else (profile(ref), profile(cur))


def frames(n_ref: int, n_cur: int, *, shift: bool, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One column per preset branch; ``shift`` moves every column's distribution clearly."""
    rng = np.random.default_rng(seed)

    def make(n: int, moved: bool) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "num": rng.normal(1.0 if moved else 0.0, 1.0, n),
                "cat": rng.choice(["a", "b", "c", "d"], n, p=[0.1, 0.2, 0.3, 0.4] if moved else [0.4, 0.3, 0.2, 0.1]),
                "bin": rng.choice(["yes", "no"], n, p=[0.8, 0.2] if moved else [0.4, 0.6]),
                "flag": (rng.random(n) < (0.8 if moved else 0.4)).astype(np.int64),
                "level": rng.choice([1.0, 2.0, 3.0], n, p=[0.1, 0.2, 0.7] if moved else [0.6, 0.3, 0.1]),
            }
        )

    return make(n_ref, False), make(n_cur, shift)


def values_for(ref: pd.DataFrame, cur: pd.DataFrame, columns: list[str]) -> dict[str, tuple[ValueCounts, ValueCounts]]:
    out = {}
    for c in columns:
        vr, vc = ValueCounts(), ValueCounts()
        vr.update(ref[c])
        vc.update(cur[c])
        out[c] = (vr, vc)
    return out


# ----------------------------------------------------------------- each branch picks its test


@pytest.mark.parametrize("mode", MODES)
def test_small_reference_numeric_with_many_values_uses_ks(mode):
    ref, cur = frames(1000, 700, shift=False)
    r = judge(*sides(mode, ref, cur), columns=["num"])["num"]
    assert (r.kind, r.test, r.threshold) == ("numeric", "ks", 0.05)
    assert r.p_value is not None and r.drift == (r.p_value < 0.05)
    assert "<= 1000" in r.reason


def _goodness_of_fit_p(ref: pd.Series, cur: pd.Series) -> float:
    """Evidently's chisquare, written out: current counts against the reference's proportions."""
    keys = sorted(set(ref.dropna()) | set(cur.dropna()))
    r = ref.value_counts().reindex(keys, fill_value=0).to_numpy(float)
    c = cur.value_counts().reindex(keys, fill_value=0).to_numpy(float)
    return float(sps.chisquare(c, r * c.sum() / r.sum()).pvalue)


@pytest.mark.parametrize("mode", MODES)
def test_small_reference_categorical_with_more_than_two_values_uses_chisquare_goodness_of_fit(mode):
    ref, cur = frames(800, 800, shift=False)
    r = judge(*sides(mode, ref, cur), columns=["cat"])["cat"]
    assert (r.kind, r.test, r.threshold) == ("categorical", "chisquare", 0.05)
    assert r.p_value == pytest.approx(_goodness_of_fit_p(ref["cat"], cur["cat"]), rel=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_small_reference_binary_columns_use_the_z_test(mode):
    ref, cur = frames(800, 800, shift=False)
    report = judge(*sides(mode, ref, cur), columns=["bin", "flag"])
    assert report["bin"].kind == "categorical" and report["bin"].test == "z"
    # Evidently types an integer column with at most 10 distinct current values as categorical
    assert report["flag"].kind == "categorical" and report["flag"].test == "z"
    assert report["flag"].threshold == 0.05


@pytest.mark.parametrize("mode", MODES)
def test_small_reference_numeric_with_three_to_five_values_uses_chisquare(mode):
    ref, cur = frames(800, 800, shift=False)
    values = values_for(ref, cur, ["level"]) if mode == "sketch" else None
    r = judge(*sides(mode, ref, cur), columns=["level"], values=values)["level"]
    assert (r.kind, r.test) == ("numeric", "chisquare")
    assert r.p_value == pytest.approx(_goodness_of_fit_p(ref["level"], cur["level"]), rel=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_large_reference_numeric_uses_normed_wasserstein(mode):
    ref, cur = frames(1001, 500, shift=False)
    r = judge(*sides(mode, ref, cur), columns=["num"])["num"]
    assert (r.kind, r.test, r.threshold, r.p_value) == ("numeric", "wasserstein_normed", 0.1, None)
    assert "> 1000" in r.reason


@pytest.mark.parametrize("mode", MODES)
def test_large_reference_categorical_and_few_valued_numeric_use_jensenshannon_distance(mode):
    ref, cur = frames(3000, 2000, shift=False)
    values = values_for(ref, cur, ["level"]) if mode == "sketch" else None
    report = judge(*sides(mode, ref, cur), columns=["cat", "bin", "flag", "level"], values=values)
    for col in ("cat", "bin", "flag", "level"):
        assert report[col].test == "jensenshannon_distance_ln", col
        assert report[col].threshold == 0.1 and report[col].p_value is None


@pytest.mark.parametrize("mode", MODES)
def test_tfdv_judges_categorical_by_linf_and_numeric_by_jensenshannon_divergence_base2(mode):
    ref, cur = frames(3000, 2000, shift=False)
    report = judge(*sides(mode, ref, cur), preset="tfdv")
    for col in ("cat", "bin"):
        assert (report[col].kind, report[col].test) == ("categorical", "linf")
    for col in ("num", "flag", "level"):
        assert (report[col].kind, report[col].test) == ("numeric", "jensenshannon_divergence_base2")
    assert all(c.threshold == 0.1 for c in report.columns)
    small = judge(*sides(mode, *frames(200, 200, shift=False)), preset="tfdv")
    assert [c.test for c in small.columns] == [c.test for c in report.columns]  # no size rule in tfdv


def test_the_reference_size_boundary_is_inclusive_at_1000():
    ref, cur = frames(1001, 300, shift=False)
    assert judge_column("num", ref["num"][:1000], cur["num"]).test == "ks"
    assert judge_column("num", ref["num"], cur["num"]).test == "wasserstein_normed"
    # nulls do not count as reference values
    with_nulls = pd.concat([ref["num"][:1000], pd.Series([np.nan] * 10)], ignore_index=True)
    assert judge_column("num", with_nulls, cur["num"]).test == "ks"


def test_distinct_values_are_counted_over_reference_and_current():
    ref = pd.Series([0.0, 1.0, 2.0] * 100)
    cur = pd.Series([3.0, 4.0, 5.0] * 100)  # 3 distinct on each side, 6 over both
    assert judge_column("x", ref, cur).test == "ks"
    assert judge_column("x", ref, ref).test == "chisquare"


# ----------------------------------------------------------------- verdicts


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("n_ref", "n_cur"), [(800, 600), (4000, 3000)])
def test_shifted_columns_drift_and_unshifted_do_not(mode, n_ref, n_cur):
    for preset in ("evidently", "tfdv"):
        if preset == "tfdv" and n_ref < 1000:
            continue
        for shift in (False, True):
            ref, cur = frames(n_ref, n_cur, shift=shift, seed=n_ref)
            values = values_for(ref, cur, ["level"]) if mode == "sketch" else None
            report = judge(*sides(mode, ref, cur), preset=preset, values=values)
            got = {c.column: c.drift for c in report.columns}
            want = dict.fromkeys(ref.columns, shift)
            for c in report.columns:
                if c.test == "chisquare" and not shift:
                    # Evidently's goodness-of-fit test takes the reference's proportions as the
                    # truth, so at equal sizes it raises false alarms (about 1 in 5 here): its
                    # verdict is what scipy's chisquare says, drift or not
                    want[c.column] = _goodness_of_fit_p(ref[c.column], cur[c.column]) < 0.05
            assert got == want, (preset, shift, report.to_dict())
            assert report.dataset_drift is (sum(want.values()) >= 0.5 * len(want))
            assert all(c.certain for c in report.columns if not (preset == "tfdv" and mode == "sketch"))


@pytest.mark.parametrize("seed", range(4))
def test_sketch_mode_reaches_the_exact_verdicts(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1200, 6000))
    for delta in (0.0, 0.05, 0.2, 0.5):
        ref = pd.DataFrame({"x": rng.lognormal(0, 1, n), "y": rng.normal(5, 2, n), "c": rng.choice(list("abcde"), n)})
        cur = pd.DataFrame(
            {
                "x": rng.lognormal(delta, 1, n),
                "y": rng.normal(5 + 2 * delta, 2, n),
                "c": rng.choice(list("abcde"), n, p=np.array([1, 1, 1, 1, 1 + 4 * delta]) / (5 + 4 * delta)),
            }
        )
        for preset in ("evidently", "tfdv"):
            exact, approx = judge(ref, cur, preset=preset), judge(profile(ref), profile(cur), preset=preset)
            for e, s in zip(exact.columns, approx.columns):
                assert e.test == s.test
                assert abs(e.statistic - s.statistic) <= s.bound + 1e-12
                if s.certain:
                    assert e.drift == s.drift, (preset, delta, e, s)
                if s.bound == 0.0:  # statistics on counts: the same numbers
                    assert s.statistic == pytest.approx(e.statistic, rel=1e-12, abs=1e-15)


def test_dataset_drift_needs_the_configured_share_of_columns():
    ref, cur = frames(3000, 3000, shift=False)
    cur = cur.assign(num=cur["num"] + 1.0, cat=cur["cat"].where(cur["cat"] != "a", "d"))  # 2 of 5 columns move
    report = judge(ref, cur)
    assert report.number_of_drifted_columns == 2 and report.share_of_drifted_columns == pytest.approx(0.4)
    assert not report.dataset_drift
    assert judge(ref, cur, drift_share=0.4).dataset_drift
    with pytest.raises(InvalidInputError, match="drift_share"):
        judge(ref, cur, drift_share=0.0)


def test_thresholds_tests_and_kinds_can_be_set_per_column():
    ref, cur = frames(3000, 3000, shift=False)
    cur = cur.assign(num=cur["num"] + 0.05)  # a normed Wasserstein distance near 0.05
    assert not judge(ref, cur)["num"].drift
    assert judge(ref, cur, thresholds={"num": 0.02})["num"].drift
    assert judge(ref, cur, thresholds=0.02)["num"].threshold == 0.02
    report = judge(ref, cur, tests={"num": "psi", "cat": "linf"}, kinds={"level": "categorical"})
    assert (report["num"].test, report["cat"].test) == ("psi", "linf")
    assert report["num"].reason.startswith("test psi requested")
    assert report["level"].kind == "categorical"
    tfdv = judge(ref, cur, preset="tfdv", thresholds={"cat": 0.001})
    assert tfdv["cat"].threshold == 0.001 and tfdv["num"].threshold == 0.1


def test_report_dict_has_the_documented_shape_and_round_trips():
    ref, cur = frames(500, 500, shift=True)
    report = judge(ref, cur)
    d = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert {"columns", "drift_share", "dataset_drift"} <= set(d)
    for c in d["columns"]:
        assert {"column", "kind", "test", "statistic", "threshold", "p_value", "drift"} <= set(c)
        assert c["test"] in TESTS and c["kind"] in ("numeric", "categorical")
    assert d["drift_share"] == 0.5 and d["dataset_drift"] is True
    assert DriftReport.from_dict(d) == report


# ----------------------------------------------------------------- distinct values from sketches


def _numeric_sketch(values) -> NumericSketch:
    s = NumericSketch()
    s.update(np.asarray(values, dtype=np.float64))
    return s


def test_sketch_mode_distinct_rules():
    rng = np.random.default_rng(2)
    # many buckets prove more than 5 values
    r = judge_column("x", _numeric_sketch(rng.normal(size=500)), _numeric_sketch(rng.normal(size=500)))
    assert r.test == "ks" and "occupied DDSketch buckets" in r.reason
    # a constant column is one value
    r = judge_column("x", _numeric_sketch(np.full(500, 3.0)), _numeric_sketch(np.full(400, 3.0)))
    assert (r.test, r.statistic, r.drift) == ("z", 0.0, False)
    # 0/1 flags are recognised by the Bhatia-Davis bound, with exact counts
    a, b = (rng.random(700) < 0.3).astype(float), (rng.random(600) < 0.5).astype(float)
    exact, sk = judge_column("f", a, b), judge_column("f", _numeric_sketch(a), _numeric_sketch(b))
    assert exact.test == sk.test == "z" and sk.statistic == pytest.approx(exact.statistic, rel=1e-12)
    # 3 values in 3 buckets cannot be told from a narrow continuous range without ValueCounts
    c, d = rng.choice([1.0, 2.0, 3.0], 700), rng.choice([1.0, 2.0, 3.0], 600)
    r = judge_column("l", _numeric_sketch(c), _numeric_sketch(d))
    assert r.test == "ks" and "distinct count unknown" in r.reason
    vc, vd = ValueCounts(), ValueCounts()
    vc.update(c)
    vd.update(d)
    r = judge_column("l", _numeric_sketch(c), _numeric_sketch(d), values=(vc, vd))
    assert r.test == "chisquare" and r.statistic == pytest.approx(judge_column("l", c, d).statistic, rel=1e-12)
    # a saturated ValueCounts proves many values
    big_r, big_c = ValueCounts(), ValueCounts()
    big_r.update(rng.normal(size=100))
    big_c.update(rng.normal(size=100))
    r = judge_column("x", _numeric_sketch(c), _numeric_sketch(d), values=(big_r, big_c))
    assert r.test == "ks" and "ValueCounts" in r.reason


def test_a_narrow_column_gets_an_uncertain_sketch_verdict():
    """DDSketch buckets are 2% of |x| wide: 1000 +- 1 lies in one or two buckets."""
    rng = np.random.default_rng(4)
    ref, cur = 1000 + rng.normal(size=3000), 1000.3 + rng.normal(size=3000)
    exact = judge_column("t", ref, cur)
    sk = judge_column("t", _numeric_sketch(ref), _numeric_sketch(cur))
    assert exact.drift and exact.certain
    assert sk.bound > 1.0 and not sk.certain  # the sketch cannot decide, and says so


# ----------------------------------------------------------------- edges and errors


def test_a_side_without_values_is_reported_not_judged():
    r = judge_column("x", [1.0, 2.0, 3.0], [np.nan, np.nan])
    assert (r.test, r.drift, r.current_count) == ("none", False, 0)
    report = judge(pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0]}), pd.DataFrame({"x": [np.nan] * 2, "y": [5.0, 6.0]}))
    assert report.number_of_columns == 1 and report.to_dict()["columns"][0]["statistic"] is None


def test_columns_on_one_side_only_are_skipped_and_listed():
    ref, cur = frames(300, 300, shift=False)
    report = judge(ref.assign(extra=1.0), cur.drop(columns=["cat"]))
    assert [c.column for c in report.columns] == ["num", "bin", "flag", "level"]
    assert set(report.skipped) == {"extra", "cat"}
    with pytest.raises(InvalidInputError, match="both sides"):
        judge(ref, cur.drop(columns=["cat"]), columns=["cat"])


def test_raw_current_data_against_a_reference_profile_is_sketched():
    ref, cur = frames(3000, 3000, shift=True)
    report = judge(profile(ref), cur)
    assert all(c.mode == "sketch" for c in report.columns) and report.dataset_drift


def test_invalid_requests_say_what_to_do():
    ref, cur = frames(300, 300, shift=False)
    with pytest.raises(InvalidInputError, match="preset"):
        judge(ref, cur, preset="whylogs")
    with pytest.raises(InvalidInputError, match="numeric column"):
        judge(ref, cur, tests={"cat": "ks"})
    with pytest.raises(InvalidInputError, match="chi2"):
        judge(ref, cur, tests={"cat": "z"})
    with pytest.raises(InvalidInputError, match="unknown test"):
        judge_column("x", [1.0], [2.0], test="kl")
    with pytest.raises(InvalidInputError, match="categorical"):
        judge_column("x", _numeric_sketch([1.0, 2.0]), _numeric_sketch([1.0]), kind="categorical")
    with pytest.raises(InvalidInputError, match="DataFrame"):
        judge([1, 2], [3, 4])
    assert isinstance(judge_column("x", [1.0, 2.0], [1.0, 2.0]), ColumnDrift)


def test_pyarrow_tables_and_mappings_are_judged_like_dataframes():
    import pyarrow as pa

    ref, cur = frames(1500, 1200, shift=True)
    want = judge(ref, cur).to_dict()
    tables = judge(pa.Table.from_pandas(ref), pa.Table.from_pandas(cur)).to_dict()
    mappings = judge({c: ref[c].to_numpy() for c in ref}, {c: cur[c].to_list() for c in cur}).to_dict()
    for got in (tables, mappings):
        assert [(c["column"], c["test"], c["drift"]) for c in got["columns"]] == [
            (c["column"], c["test"], c["drift"]) for c in want["columns"]
        ]
        for a, b in zip(got["columns"], want["columns"]):
            assert a["statistic"] == pytest.approx(b["statistic"], rel=1e-12)
