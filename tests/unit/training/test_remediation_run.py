"""The recorded remediation run (no Ray): every method of the registry, registration with the
reference profile, and the input checks before any work."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from raymlops.core.errors import InvalidInputError
from raymlops.metadata import Artifact
from raymlops.monitoring.live import load_reference
from raymlops.training.models import fit_on_features
from raymlops.training.prepared import Prepared
from raymlops.training.registration import register_trained
from raymlops.training.remediate import SliceThresholdModel
from raymlops.training.remediation_run import METHODS, REMEDIES, parse_slice, run_remediation


def _frame(n: int, seed: int) -> pd.DataFrame:
    """Labels follow a + b, except on color=red where a third of them are flipped."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "color": rng.choice(["red", "blue"], n)})
    y = (df["a"] + df["b"] > 0).astype(int)
    flip = (df["color"] == "red").to_numpy() & (rng.random(n) < 0.3)
    df["label"] = np.where(flip, 1 - y, y)
    return df


@pytest.fixture
def case(store, registry):
    splits = {"train": _frame(400, 0), "validation": _frame(200, 1), "test": _frame(200, 2)}
    transform = make_column_transformer(
        (StandardScaler(), ["a", "b"]), (OneHotEncoder(), ["color"]), verbose_feature_names_out=False
    ).fit(splits["train"].drop(columns=["label"]))
    artifacts = {
        name: store.put_artifact(Artifact(type="Dataset", uri=f"file:///data/{name}.parquet"))
        for name in ("train", "split_test")
    }
    prep = Prepared(**splits, transform=transform, task="classification", target="label", artifacts=artifacts)
    X_tr, y_tr = prep.xy("train")
    model = fit_on_features(transform, LogisticRegression(), X_tr, y_tr)
    register_trained(registry, model, "m", X_train=X_tr, description="base")
    trainer = SimpleNamespace(registry=registry, store=store, prepare=None)
    return trainer, prep


def test_register_trained_keeps_an_input_example_and_the_reference_profile(case, registry):
    _, prep = case
    rec = registry.get("m@1")
    assert [c["name"] for c in rec["signature"]["inputs"]] == ["a", "b", "color"]
    reference = load_reference(registry, "m@1")
    assert reference.rows == len(prep.train)
    assert set(reference.columns) == {"a", "b", "color", "prediction"}


@pytest.mark.parametrize("method", METHODS)
def test_every_method_compares_before_and_after_records_and_registers(case, store, registry, method):
    trainer, prep = case
    out = run_remediation(trainer, None, target="label", model="m@1", slice_expr="color=red", method=method, register="fixed", prepared=prep)
    assert out["model"] == "m@1" and out["slice"] == "color=red" and out["method"] == method
    assert set(out["comparison"]) == {"slice_gap", "overall", "slices"}
    assert set(out["comparison"]["slices"]) == {"in", "out"}
    extra = {"thresholds": "thresholds", "mindiff": "mmd2", "augment": "augmented_rows"}[method]
    assert extra in out
    assert out["registered"] == 1
    fixed = registry.load("fixed@1")
    if method == "thresholds":
        assert isinstance(fixed, SliceThresholdModel)
    assert load_reference(registry, "fixed@1") is not None
    [ex] = store.get_executions(type="Remediate")
    assert ex.state == "COMPLETE" and ex.properties["method"] == method
    assert ex.properties["comparison"] == out["comparison"]
    assert registry.get("fixed@1")["run_id"] == ex.id


def test_mindiff_reports_the_score_discrepancy_with_and_without_the_penalty(case):
    trainer, prep = case
    out = run_remediation(trainer, None, target="label", model="m@1", slice_expr="color=red", method="mindiff", prepared=prep)
    assert set(out["mmd2"]) == {"before", "after", "lam"} and out["mmd2"]["lam"] == 3.0
    assert min(out["mmd2"]["before"], out["mmd2"]["after"]) > -1e-12  # biased MMD² is >= 0 up to rounding
    assert out["registered"] is None


def test_bad_requests_fail_before_any_work(case, store):
    trainer, prep = case
    args = {"target": "label", "model": "m@1", "prepared": prep}
    with pytest.raises(InvalidInputError, match="remediation method 'retrain': use one of thresholds, mindiff, augment"):
        run_remediation(trainer, None, slice_expr="color=red", method="retrain", **args)
    with pytest.raises(InvalidInputError, match="no test rows have color=green"):
        run_remediation(trainer, None, slice_expr="color=green", method="thresholds", **args)
    with pytest.raises(InvalidInputError, match="slice column 'size' is not a feature"):
        run_remediation(trainer, None, slice_expr="size=L", method="thresholds", **args)
    assert store.get_executions(type="Remediate") == []


def test_parse_slice_and_the_method_registry():
    assert parse_slice("color=red", ["color", "a"]) == ("color", "red")
    with pytest.raises(InvalidInputError, match="write COLUMN=VALUE"):
        parse_slice("color", ["color"])
    assert METHODS == ("thresholds", "mindiff", "augment")
    assert [m for m, r in REMEDIES.items() if r.binary_only] == ["thresholds", "mindiff"]
