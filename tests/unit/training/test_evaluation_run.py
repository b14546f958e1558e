"""The recorded blessing of a version: record_blessing writes it, blessing_of reads it back."""

from __future__ import annotations

import pandas as pd
import pytest

from raymlops.core.errors import InvalidInputError, ModelNotFoundError
from raymlops.registry import PromotionRefusedError
from raymlops.training import BlessingRecord, blessing_of
from raymlops.training.evaluate import EvaluationResult, Threshold, bless
from raymlops.training.evaluation_run import feature_slice, record_blessing, reported_metrics


def _blessing(accuracy: float):
    result = EvaluationResult(metrics=("accuracy",), by_slice={"*": {"accuracy": accuracy}}, counts={"*": 100})
    return bless(result, None, [Threshold(metric="accuracy", lower=0.8)])


def _record(store, registry, tmp_path, version: int, accuracy: float, baseline: int | None = None):
    report = tmp_path / f"report-{version}-{accuracy}.json"
    report.write_text(f'{{"accuracy": {accuracy}}}')
    inputs = {"model": store.get_artifact(registry.get(f"m@{version}")["artifact_id"])}
    if baseline is not None:
        inputs["baseline"] = store.get_artifact(registry.get(f"m@{baseline}")["artifact_id"])
    return record_blessing(
        store, registry, "m", version, _blessing(accuracy), report=report, inputs=inputs, baseline_note="no champion yet"
    )


def test_blessing_of_returns_the_latest_blessing_artifact_and_its_evaluate_execution(store, registry, tmp_path):
    registry.register({"w": 1}, "m")
    assert blessing_of(store, registry, "m@1") is None  # never evaluated
    first = _record(store, registry, tmp_path, 1, 0.7)
    got = blessing_of(store, registry, "m@1")
    assert isinstance(got, BlessingRecord)
    assert got.artifact.id == first.id and got.artifact.type == "Blessing"
    assert got.execution.type == "Evaluate" and got.execution.state == "COMPLETE"
    assert got.verdict == "NOT_BLESSED"
    assert got.failed == ["accuracy overall (slice *) is 0.7, below the lower bound 0.8"]
    second = _record(store, registry, tmp_path, 1, 0.9)
    latest = blessing_of(store, registry, "m@latest")
    assert latest.artifact.id == second.id and latest.verdict == "BLESSED" and latest.failed == []
    assert latest.execution.id > got.execution.id
    assert latest.to_dict() == {
        "verdict": "BLESSED",
        "failed": [],
        "report": second.uri,
        "artifact_id": second.id,
        "execution_id": latest.execution.id,
        "evaluated": latest.execution.update_time,
    }
    assert latest.artifact.properties["baseline"] == "no champion yet"


def test_the_registry_verdict_agrees_with_the_lineage_and_guards_champion(store, registry, tmp_path):
    registry.register({"w": 1}, "m")
    _record(store, registry, tmp_path, 1, 0.7)
    verdict = registry.verdict("m", 1)
    record = blessing_of(store, registry, "m@1")
    assert verdict["verdict"] == record.verdict == "NOT_BLESSED"
    assert verdict["artifact_id"] == record.artifact.id and verdict["report"] == record.artifact.uri
    assert verdict["failed"] == record.failed
    with pytest.raises(PromotionRefusedError):
        registry.set_alias("m", 1, "champion")
    _record(store, registry, tmp_path, 1, 0.95)
    registry.set_alias("m", 1, "champion")
    assert registry.get("m@champion")["version"] == 1


def test_being_the_baseline_of_another_evaluation_is_not_a_blessing(store, registry, tmp_path):
    registry.register({"w": 1}, "m")
    registry.register({"w": 2}, "m")
    _record(store, registry, tmp_path, 2, 0.9, baseline=1)
    assert blessing_of(store, registry, "m@1") is None
    assert blessing_of(store, registry, "m@2").verdict == "BLESSED"


def test_blessing_of_an_unknown_version_is_not_found(store, registry):
    with pytest.raises(ModelNotFoundError):
        blessing_of(store, registry, "nope@1")


def test_reported_metrics_and_feature_slices():
    assert reported_metrics("classification", "accuracy") == ["accuracy", "f1"]
    assert reported_metrics("regression", "r2") == ["r2", "rmse", "mae"]
    X = pd.DataFrame({"color": ["red"], "age": [3]})
    assert feature_slice(X, "age").column == "age"
    with pytest.raises(InvalidInputError, match="slice column 'size' is not a feature; features: color, age"):
        feature_slice(X, "size")
