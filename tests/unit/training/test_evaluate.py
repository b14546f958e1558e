"""Evaluation per slice (against pandas groupby), thresholds and blessing semantics."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.compose import make_column_transformer
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline

from raymlops.core.errors import ChecksFailedError, InvalidInputError
from raymlops.training.evaluate import (
    BLESSED,
    NOT_BLESSED,
    Blessing,
    ChangeThreshold,
    Check,
    EvaluationResult,
    SliceSpec,
    Threshold,
    bless,
    evaluate,
    slice_name,
    threshold_from_dict,
)
from raymlops.training.metrics import score_model


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 2000
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "color": rng.choice(["red", "blue", "green"], n, p=[0.3, 0.5, 0.2]),
            "city": rng.choice(["oslo", "lima"], n),
            "age": rng.integers(18, 81, n),
        }
    )
    logit = 1.5 * df["x1"] + 1.5 * df["x2"] - 0.8 * (df["color"] == "red")
    df["label"] = np.where(logit + rng.logistic(size=n) > 0, "yes", "no")
    df["value"] = 2 * df["x1"] + df["x2"] + rng.normal(scale=0.5, size=n)
    return df


def _classifier(columns):
    pre = make_column_transformer(("passthrough", columns))
    return make_pipeline(pre, LogisticRegression())


@pytest.fixture(scope="module")
def good(data):
    return _classifier(["x1", "x2"]).fit(data, data["label"])


@pytest.fixture(scope="module")
def worse(data):
    return _classifier(["x1"]).fit(data, data["label"])


def _quartile_bucket(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    edges = np.unique(np.quantile(values.to_numpy(dtype=float), np.linspace(0, 1, 5)))
    return edges, np.clip(np.searchsorted(edges, values.to_numpy(dtype=float), side="right") - 1, 0, len(edges) - 2)


def _bucket_names(edges) -> list[str]:
    last = len(edges) - 2
    return [f"[{edges[i]:g}, {edges[i + 1]:g}{']' if i == last else ')'}" for i in range(len(edges) - 1)]


# ---------------------------------------------------------------------------- evaluate


def test_overall_matches_score_model(data, good):
    metrics = ["accuracy", "f1", "roc_auc", "log_loss"]
    result = evaluate(good, data, data["label"], metrics=metrics)
    assert result.overall == score_model(good, data, data["label"], metrics)
    assert list(result.by_slice) == ["*"] and result.counts == {"*": len(data)}
    assert result.metrics == tuple(metrics) and result.task == "classification"


def test_categorical_slices_match_pandas_groupby(data, good):
    result = evaluate(good, data, data["label"], metrics=["accuracy", "roc_auc"], slices=["color"])
    assert list(result.by_slice) == ["*", "color=blue", "color=green", "color=red"]
    pred, proba = good.predict(data), good.predict_proba(data)[:, 1]
    frame = data.assign(correct=pred == data["label"], p=proba)
    for color, group in frame.groupby("color"):
        name = f"color={color}"
        assert result.counts[name] == len(group)
        assert result.by_slice[name]["accuracy"] == pytest.approx(group["correct"].mean(), abs=1e-15)
        assert result.by_slice[name]["roc_auc"] == skm.roc_auc_score(group["label"] == "yes", group["p"])


def test_quantile_buckets_match_pandas_groupby(data, good):
    result = evaluate(good, data, data["label"], metrics=["accuracy"], slices=[SliceSpec(column="age", buckets=4)])
    edges, bucket = _quartile_bucket(data["age"])
    names = [f"age={b}" for b in _bucket_names(edges)]
    assert result.slices == names
    correct = pd.Series(good.predict(data) == data["label"])
    grouped = correct.groupby(bucket).agg(["size", "mean"])
    for b, row in grouped.iterrows():
        assert result.counts[names[b]] == row["size"]
        assert result.by_slice[names[b]]["accuracy"] == pytest.approx(row["mean"], abs=1e-15)
    assert sum(result.counts[s] for s in result.slices) == len(data)  # every row in one bucket
    assert names[-1].endswith("80]")  # the last quantile bucket ends closed at the maximum


def test_explicit_edges_match_pd_cut(data, good):
    spec = SliceSpec(column="age", edges=[0, 30, 60, math.inf])
    result = evaluate(good, data, data["label"], metrics=["accuracy"], slices=[spec])
    assert result.slices == ["age=[0, 30)", "age=[30, 60)", "age=[60, inf)"]
    cut = pd.cut(data["age"], [0, 30, 60, math.inf], right=False)
    sizes = cut.value_counts(sort=False).to_numpy()
    assert [result.counts[s] for s in result.slices] == sizes.tolist()


def test_values_outside_explicit_edges_get_their_own_slices():
    df = pd.DataFrame({"age": [10, 30, 45, 60, 61, None]})
    assert SliceSpec(column="age", edges=[30, 60]).assign(df).tolist() == [
        "age=(-inf, 30)",
        "age=[30, 60]",
        "age=[30, 60]",
        "age=[30, 60]",
        "age=(60, inf)",
        "age is null",
    ]


def test_cross_matches_pandas_groupby(data, good):
    spec = SliceSpec(column="color", cross=SliceSpec(column="age", buckets=4))
    result = evaluate(good, data, data["label"], metrics=["accuracy"], slices=[spec])
    edges, bucket = _quartile_bucket(data["age"])
    labels = _bucket_names(edges)
    correct = pd.Series(good.predict(data) == data["label"])
    grouped = correct.groupby([data["color"], bucket]).agg(["size", "mean"])
    expected = {f"color={c} & age={labels[b]}": (row["size"], row["mean"]) for (c, b), row in grouped.iterrows()}
    assert result.slices == list(expected)  # same groups, in the same order
    for name, (size, acc) in expected.items():
        assert result.counts[name] == size
        assert result.by_slice[name]["accuracy"] == pytest.approx(acc, abs=1e-15)
    # a tuple of columns is the same cross
    by_tuple = evaluate(good, data, data["label"], metrics=["accuracy"], slices=[("color", "city")])
    grouped = data.groupby(["color", "city"]).size()
    assert {f"color={c} & city={t}": int(v) for (c, t), v in grouped.items()} == {
        s: by_tuple.counts[s] for s in by_tuple.slices
    }


def test_slice_names_and_assign():
    df = pd.DataFrame({"color": ["red", None, "blue"], "n": [1, 2, 1], "flag": [True, False, True]})
    assert SliceSpec(column="color").assign(df).tolist() == ["color=red", "color is null", "color=blue"]
    assert SliceSpec(column="n", cross="flag").assign(df).tolist() == [
        "n=1 & flag=True",
        "n=2 & flag=False",
        "n=1 & flag=True",
    ]
    assert slice_name({"color": "red", "age": "[30, 45)"}) == "color=red & age=[30, 45)"


def test_a_continuous_column_named_alone_is_cut_into_quartiles(data, good):
    result = evaluate(good, data, data["label"], metrics=["accuracy"], slices=["x1"])
    assert len(result.slices) == 4 and all(s.startswith("x1=[") for s in result.slices)
    # a numeric column with few values is sliced by value
    few = evaluate(good, data.assign(k=data["age"] % 3), data["label"], metrics=["accuracy"], slices=["k"])
    assert few.slices == ["k=0", "k=1", "k=2"]


def test_slice_data_for_columns_the_model_does_not_take(data):
    model = LogisticRegression().fit(data[["x1", "x2"]].to_numpy(), data["label"])
    X = data[["x1", "x2"]].to_numpy()
    with pytest.raises(InvalidInputError, match="slice_data"):
        evaluate(model, X, data["label"], metrics=["accuracy"], slices=["color"])
    result = evaluate(model, X, data["label"], metrics=["accuracy"], slices=["color"], slice_data=data)
    assert result.counts["color=red"] == int((data["color"] == "red").sum())
    with pytest.raises(InvalidInputError, match="not in the data"):
        evaluate(model, X, data["label"], metrics=["accuracy"], slices=["colour"], slice_data=data)


def test_result_round_trips_through_strict_json_with_undefined_values(data, good):
    # slicing by the label itself gives one-class slices, where ROC AUC is undefined
    result = evaluate(
        good, data, data["label"], metrics=["roc_auc", "accuracy"], slices=["label", "color"], min_slice_size=5
    )
    assert math.isnan(result.by_slice["label=yes"]["roc_auc"])
    text = json.dumps(result.to_dict(), allow_nan=False)
    back = EvaluationResult.from_dict(json.loads(text))
    assert back == result
    assert back.min_slice_size == 5 and math.isnan(back.by_slice["label=no"]["roc_auc"])
    frame = result.to_frame()
    assert list(frame.columns) == ["count", "roc_auc", "accuracy"] and frame.loc["*", "count"] == len(data)
    with pytest.raises(InvalidInputError, match="not an evaluation result"):
        EvaluationResult.from_dict({"by_slice": {}})


def test_regression_evaluation(data):
    model = LinearRegression().fit(data[["x1", "x2"]], data["value"])
    X = data[["x1", "x2"]]
    result = evaluate(model, X, data["value"], metrics=["rmse", "r2"], slices=["color"], slice_data=data)
    for color, group in data.groupby("color"):
        pred = model.predict(group[["x1", "x2"]])
        assert result.by_slice[f"color={color}"]["rmse"] == pytest.approx(
            skm.root_mean_squared_error(group["value"], pred), rel=1e-12
        )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"column": "age", "buckets": 4, "edges": [0, 1]}, "both buckets and edges"),
        ({"column": "age", "buckets": 0}, "buckets=0"),
        ({"column": "age", "edges": [1]}, "at least two strictly increasing"),
        ({"column": "age", "edges": [3, 2]}, "at least two strictly increasing"),
        ({"column": "age", "cross": "age"}, "repeats a column"),
        ({"column": ""}, "needs a column"),
    ],
)
def test_slice_spec_is_validated_at_construction(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        SliceSpec(**kwargs)


def test_slice_spec_round_trips_through_strict_json():
    spec = SliceSpec(column="color", cross=SliceSpec(column="age", edges=[-math.inf, 30, math.inf]))
    back = SliceSpec.from_dict(json.loads(json.dumps(spec.to_dict(), allow_nan=False)))
    assert back == spec and hash(back) == hash(spec)
    with pytest.raises(InvalidInputError, match="unknown SliceSpec field"):
        SliceSpec.from_dict({"column": "a", "bucket": 3})


def test_buckets_on_a_text_column_are_refused(data, good):
    with pytest.raises(InvalidInputError, match="not numeric"):
        evaluate(good, data, data["label"], metrics=["accuracy"], slices=[SliceSpec(column="color", buckets=3)])


# ---------------------------------------------------------------------------- thresholds


def test_thresholds_are_definition_objects():
    t = Threshold(metric="accuracy", lower=0.8, slices=["color=red", "*"], change=-0.01)
    assert t.slices == ("color=red", "*")
    assert t.change == ChangeThreshold(metric="accuracy", min_improvement=-0.01, slices=("color=red", "*"))
    assert t == Threshold(metric="accuracy", lower=0.8, slices=("color=red", "*"), change=t.change)
    assert t != Threshold(metric="accuracy", lower=0.7, slices=["color=red", "*"], change=-0.01)
    assert Threshold.from_dict(json.loads(json.dumps(t.to_dict()))) == t
    assert threshold_from_dict(t.to_dict()) == t
    c = ChangeThreshold(metric="rmse", min_improvement=0.05, relative=True, slices="all")
    assert threshold_from_dict(c.to_dict()) == c
    assert repr(c) == "ChangeThreshold(metric='rmse', min_improvement=0.05, relative=True, slices='all')"
    assert "Threshold(metric='accuracy', lower=0.8" in repr(t)
    with pytest.raises(TypeError):
        Threshold("accuracy", 0.8)  # keyword-only


@pytest.mark.parametrize(
    "factory, match",
    [
        (lambda: Threshold(metric="acc", lower=0.5), "unknown metric 'acc'"),
        (lambda: Threshold(metric="accuracy"), "checks nothing"),
        (lambda: Threshold(metric="accuracy", lower=0.9, upper=0.8), "above upper"),
        (lambda: Threshold(metric="accuracy", lower=math.nan), "finite number"),
        (lambda: Threshold(metric="accuracy", lower="high"), "use a number"),
        (lambda: Threshold(metric="accuracy", lower=0.5, slices=[]), "slices"),
        (lambda: Threshold(metric="accuracy", lower=0.5, slices=[3]), "slices"),
        (lambda: Threshold(metric="accuracy", change=ChangeThreshold(metric="f1")), "change threshold on 'f1'"),
        (lambda: ChangeThreshold(metric="f1", min_improvement=math.inf), "finite number"),
        (lambda: ChangeThreshold(metric="f1", relative="yes"), "True or False"),
        (lambda: Threshold.from_dict({"metric": "f1", "lower": 0.1, "lowr": 0.2}), "unknown Threshold field"),
        (lambda: threshold_from_dict({"metric": "f1"}), "not a threshold"),
    ],
)
def test_thresholds_are_validated_at_construction(factory, match):
    with pytest.raises(InvalidInputError, match=match):
        factory()


# ---------------------------------------------------------------------------- blessing


def _result(values: dict[str, dict[str, float]], counts: dict[str, int] | None = None, min_slice_size: int = 1):
    metrics = tuple(next(iter(values.values())))
    return EvaluationResult(
        metrics=metrics,
        by_slice=values,
        counts=counts or {s: 100 for s in values},
        min_slice_size=min_slice_size,
        task="classification",
    )


def test_a_worse_candidate_is_not_blessed_by_a_change_threshold(data, good, worse):
    champion = evaluate(good, data, data["label"], metrics=["accuracy", "log_loss"], slices=["color"])
    candidate = evaluate(worse, data, data["label"], metrics=["accuracy", "log_loss"], slices=["color"])
    assert candidate.overall["accuracy"] < champion.overall["accuracy"]
    thresholds = [ChangeThreshold(metric="accuracy"), ChangeThreshold(metric="log_loss", min_improvement=-0.01)]
    blessing = bless(candidate, champion, thresholds)
    assert blessing.verdict == NOT_BLESSED and not blessing.blessed
    failed = {(c.metric, c.kind, c.slice) for c in blessing.failed}
    assert failed == {("accuracy", "change", "*"), ("log_loss", "change", "*")}
    acc = blessing.failed[0]
    assert acc.baseline == champion.overall["accuracy"] and acc.bound == champion.overall["accuracy"]
    assert acc.value == candidate.overall["accuracy"] and acc.op == ">="
    assert "is below the bound" in acc.message and "no worse than the baseline" in acc.message
    # the better model against the worse one as baseline is blessed
    better = bless(champion, candidate, thresholds)
    assert better.verdict == BLESSED and better.failed == [] and all(c.passed for c in better.checks)


def test_per_slice_value_failure_names_the_slice():
    candidate = _result({"*": {"accuracy": 0.85}, "color=red": {"accuracy": 0.62}, "color=blue": {"accuracy": 0.9}})
    blessing = bless(candidate, None, [Threshold(metric="accuracy", lower=0.8, slices="all")])
    assert blessing.verdict == NOT_BLESSED
    assert [c.slice for c in blessing.checks] == ["*", "color=red", "color=blue"]
    (failed,) = blessing.failed
    assert failed.slice == "color=red" and failed.kind == "value" and failed.bound == 0.8 and failed.op == ">="
    assert failed.message == "accuracy on slice color=red is 0.62, below the lower bound 0.8"
    # listed slices only
    only_blue = bless(candidate, None, [Threshold(metric="accuracy", lower=0.8, slices=["color=blue"])])
    assert only_blue.blessed and [c.slice for c in only_blue.checks] == ["color=blue"]


def test_upper_and_lower_bounds_are_separate_inclusive_checks():
    candidate = _result({"*": {"log_loss": 0.5}})
    b = bless(candidate, None, [Threshold(metric="log_loss", lower=0.1, upper=0.4)])
    assert [(c.op, c.bound, c.passed) for c in b.checks] == [(">=", 0.1, True), ("<=", 0.4, False)]
    assert b.failed[0].message == "log_loss overall (slice *) is 0.5, above the upper bound 0.4"
    assert bless(candidate, None, [Threshold(metric="log_loss", upper=0.5, lower=0.5)]).blessed  # inclusive


def test_close_values_are_printed_with_enough_digits():
    candidate = _result({"*": {"accuracy": 0.79996}})
    (check,) = bless(candidate, None, [Threshold(metric="accuracy", lower=0.8)]).checks
    assert check.message == "accuracy overall (slice *) is 0.79996, below the lower bound 0.8"


def test_change_thresholds_are_skipped_without_a_baseline():
    candidate = _result({"*": {"accuracy": 0.5}, "color=red": {"accuracy": 0.4}})
    thresholds = [ChangeThreshold(metric="accuracy", min_improvement=0.1, slices="all")]
    blessing = bless(candidate, None, thresholds)
    assert blessing.verdict == BLESSED  # the first model has nothing to be compared with
    assert len(blessing.checks) == 2 and blessing.failed == [] and len(blessing.skipped) == 2
    assert all(c.skipped and c.passed is None for c in blessing.checks)
    assert blessing.skipped[1].message == (
        "change of accuracy on slice color=red not checked: there is no baseline to compare with"
    )
    # value thresholds still apply
    assert not bless(candidate, None, [*thresholds, Threshold(metric="accuracy", lower=0.6)]).blessed


def test_change_thresholds_are_skipped_for_slices_the_baseline_lacks():
    candidate = _result({"*": {"accuracy": 0.9}, "color=red": {"accuracy": 0.2}})
    baseline = _result({"*": {"accuracy": 0.8}})
    blessing = bless(candidate, baseline, [ChangeThreshold(metric="accuracy", slices="all")])
    assert blessing.blessed
    assert [(c.slice, c.passed) for c in blessing.checks] == [("*", True), ("color=red", None)]
    assert "the baseline's evaluation has no such slice" in blessing.skipped[0].message
    other_metric = _result({"*": {"f1": 0.8}})
    assert bless(candidate, other_metric, [ChangeThreshold(metric="accuracy")]).checks[0].skipped


@pytest.mark.parametrize("metric", ["log_loss", "rmse"])
def test_lower_is_better_metrics_compare_in_the_right_direction(metric):
    baseline = _result({"*": {metric: 0.40}})
    higher = _result({"*": {metric: 0.42}})
    lower = _result({"*": {metric: 0.38}})
    no_worse = [ChangeThreshold(metric=metric)]
    assert not bless(higher, baseline, no_worse).blessed
    assert bless(lower, baseline, no_worse).blessed
    assert bless(baseline, baseline, no_worse).blessed  # equal is not worse
    (check,) = bless(higher, baseline, no_worse).checks
    assert check.op == "<=" and check.bound == 0.40
    assert check.message == (
        f"{metric} overall (slice *) is 0.42 vs the baseline's 0.4 (lower is better): is above the bound 0.4; "
        "it must be no worse than the baseline"
    )
    # allowed degradation: may go up by at most 0.03
    allowance = [ChangeThreshold(metric=metric, min_improvement=-0.03)]
    assert bless(higher, baseline, allowance).blessed
    assert "may be at most 0.03 worse" in bless(higher, baseline, allowance).checks[0].message
    # required improvement of 10% of the baseline (0.04): 0.38 is not enough
    relative = [ChangeThreshold(metric=metric, min_improvement=0.1, relative=True)]
    (rel,) = bless(lower, baseline, relative).checks
    assert rel.passed is False and rel.bound == pytest.approx(0.36)
    assert "improve on the baseline by at least 10% of the baseline" in rel.message


def test_regressors_in_the_right_direction(data):
    X, y = data[["x1", "x2"]], data["value"]
    fitted = evaluate(LinearRegression().fit(X, y), X, y, metrics=["rmse", "r2"])
    dummy = evaluate(DummyRegressor().fit(X, y), X, y, metrics=["rmse", "r2"])
    thresholds = [ChangeThreshold(metric="rmse"), ChangeThreshold(metric="r2")]
    assert bless(fitted, dummy, thresholds).blessed
    worse = bless(dummy, fitted, thresholds)
    assert [c.metric for c in worse.failed] == ["rmse", "r2"]


def test_small_slices_are_reported_but_not_checked(data, good):
    small = data.copy()
    small.loc[small.index[:3], "color"] = "purple"
    result = evaluate(good, small, small["label"], metrics=["accuracy"], slices=["color"], min_slice_size=10)
    assert result.counts["color=purple"] == 3 and "accuracy" in result.by_slice["color=purple"]
    blessing = bless(result, result, [Threshold(metric="accuracy", lower=0.0, slices="all", change=0.0)])
    purple = [c for c in blessing.checks if c.slice == "color=purple"]
    assert len(purple) == 2 and all(c.skipped for c in purple)
    assert purple[0].message == (
        "accuracy on slice color=purple not checked: the slice has 3 rows, below min_slice_size 10"
    )
    assert blessing.blessed


def test_unknown_slices_fail_and_unevaluated_metrics_raise():
    candidate = _result({"*": {"accuracy": 0.9}, "color=red": {"accuracy": 0.9}})
    blessing = bless(candidate, None, [Threshold(metric="accuracy", lower=0.5, slices=["colour=red"])])
    assert not blessing.blessed
    message = blessing.failed[0].message
    assert "slice 'colour=red' of the accuracy threshold is not in the candidate's evaluation" in message
    with pytest.raises(InvalidInputError, match="not evaluated on.*add it to evaluate"):
        bless(candidate, None, [Threshold(metric="f1", lower=0.5)])


def test_undefined_values_are_skipped():
    candidate = _result({"*": {"roc_auc": 0.8}, "label=yes": {"roc_auc": math.nan}})
    blessing = bless(candidate, candidate, [Threshold(metric="roc_auc", lower=0.7, slices="all", change=0.0)])
    assert blessing.blessed
    skipped = [c for c in blessing.checks if c.skipped]
    assert [c.slice for c in skipped] == ["label=yes", "label=yes"]
    assert "undefined" in skipped[0].message


def test_no_thresholds_bless():
    assert bless(_result({"*": {"accuracy": 0.1}}), None, []).verdict == BLESSED


def test_blessing_round_trips_and_raises(data, good, worse):
    champion = evaluate(good, data, data["label"], metrics=["accuracy"], slices=["color"])
    candidate = evaluate(worse, data, data["label"], metrics=["accuracy"], slices=["color"])
    blessing = bless(candidate, champion, Threshold(metric="accuracy", lower=0.5, slices="all", change=0.0))
    as_dict = blessing.to_dict()
    assert as_dict["blessed"] is False and as_dict["failed"] == [c.to_dict() for c in blessing.failed]
    back = Blessing.from_dict(json.loads(json.dumps(as_dict, allow_nan=False)))
    assert back == blessing and back.failed == blessing.failed
    assert Check.from_dict(blessing.checks[0].to_dict()) == blessing.checks[0]
    assert blessing.summary().startswith("NOT_BLESSED (8 checks: ")
    with pytest.raises(ChecksFailedError) as err:
        blessing.raise_if_not_blessed()
    assert err.value.exit_code == 1 and len(err.value.details) == len(blessing.failed)
    bless(champion, candidate, Threshold(metric="accuracy", change=0.0)).raise_if_not_blessed()
    with pytest.raises(InvalidInputError, match="verdict"):
        Blessing.from_dict({"verdict": "MAYBE", "checks": []})
