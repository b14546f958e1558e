"""Label Studio export -> import -> aggregate -> join -> train -> a model whose lineage
reaches the export file; then the trained model picks the next tasks; and self-training."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from raymlops.data.ingest import load_sklearn_frame
from raymlops.labeling.simulate import simulate_crowd
from raymlops.labeling.steps import aggregate, import_label_studio, join_labels, query, self_train
from raymlops.metadata import connect
from raymlops.monitoring.live import load_reference
from raymlops.registry import ModelRegistry
from raymlops.training.train import Trainer


def label_studio_export(df: pd.DataFrame, ann: pd.DataFrame) -> list[dict]:
    """A Label Studio JSON export of the simulated annotations (users are ids, one cancelled)."""
    users = {w: i + 1 for i, w in enumerate(sorted(ann["worker"].unique()))}
    tasks = []
    for t, rows in ann.groupby("task"):
        anns = [
            {"id": int(i), "completed_by": users[w], "was_cancelled": False, "ground_truth": False, "lead_time": 3.0,
             "result": [{"from_name": "label", "to_name": "table", "type": "choices", "value": {"choices": [lab]}}]}
            for i, w, lab in zip(rows.index, rows["worker"], rows["label"])
        ]
        anns.append({"id": 10**6 + int(t), "completed_by": 1, "was_cancelled": True, "result": []})
        tasks.append({"id": 5000 + int(t), "data": {"row_id": int(t), "table": {"mean_radius": float(df.loc[t, "mean_radius"])}}, "annotations": anns})
    return tasks


def test_export_to_trained_model_with_lineage_to_the_export(ray_session, tmp_path):
    settings = ray_session
    store = connect(settings)
    df = load_sklearn_frame("breast_cancer")
    classes = np.array(["malignant", "benign"])
    crowd = simulate_crowd(truth=df["target"].to_numpy(), n_workers=30, n_classes=2, n_sme=0, accuracy_range=(0.65, 0.9), seed=1)
    ann = crowd.annotations.assign(label=classes[crowd.annotations["label"].to_numpy()])
    export = tmp_path / "export.json"
    export.write_text(json.dumps(label_studio_export(df, ann)))

    imported = import_label_studio(str(export), out=str(tmp_path / "annotations.parquet"), key="row_id", settings=settings, store=store)
    assert imported["annotations"] == len(ann) and imported["tasks"] == len(df)
    agg = aggregate(str(tmp_path / "annotations.parquet"), method="ds", out=str(tmp_path / "labels.parquet"), settings=settings, store=store)
    labels = pd.read_parquet(agg["out"])
    truth = classes[df["target"].to_numpy()][labels["task"].to_numpy()]
    assert (labels["label"].to_numpy() == truth).mean() > 0.85

    features = df.drop(columns=["target"]).assign(task=np.arange(len(df)))  # the id the tasks carried
    features.to_csv(tmp_path / "features.csv", index=False)
    joined = join_labels(str(tmp_path / "features.csv"), agg["out"], key="task", out=str(tmp_path / "train.parquet"), settings=settings, store=store)
    assert joined["rows"] == len(df)

    result = Trainer(settings, store=store).fit(str(tmp_path / "train.parquet"), target="label", name="bc-crowd", key="task", weight_col="weight", seed=0)
    assert result.metrics["test"]["accuracy"] > 0.8
    run = store.get_execution(result.runs[-1]["id"])
    assert run.properties["params"]["weight_col"] == "weight"
    assert {"column": "weight", "reason": "the sample weight (--weight-col)"} in result.excluded_columns
    record = ModelRegistry.connect(settings).get(f"bc-crowd@{result.version}")
    inputs = {c["name"] for c in record["signature"]["inputs"]}
    assert "mean_radius" in inputs and not {"weight", "label"} & inputs  # the weight is never a feature

    model_art = record["artifact_id"]
    graph = store.lineage(("artifact", model_art), direction="up", hops=30).to_dict()
    uris = {n["uri"] for n in graph["nodes"]}
    types = {n["type"] for n in graph["nodes"]}
    assert f"file://{export}" in uris
    assert {"ImportLabelStudio", "AggregateLabels", "JoinLabels"} <= types

    picked = query(str(tmp_path / "features.csv"), model=f"bc-crowd@{result.version}", k=10, key="task", strategy="diverse", out=str(tmp_path / "next.json"), settings=settings, store=store)
    tasks = json.loads((tmp_path / "next.json").read_text())
    assert picked["k"] == 10 and len(tasks) == 10 and len({t["data"]["task"] for t in tasks}) == 10
    assert all(0.0 <= t["predictions"][0]["score"] <= 1.0 and t["predictions"][0]["model_version"] == f"bc-crowd@{result.version}" for t in tasks)


def test_self_training_with_five_percent_labels(ray_session, tmp_path):
    settings = ray_session
    store = connect(settings)
    df = load_sklearn_frame("breast_cancer").assign(row_id=lambda d: np.arange(len(d)))
    rng = np.random.default_rng(0)
    data = df.astype({"target": float})
    data.loc[rng.random(len(df)) > 0.05, "target"] = np.nan
    data.to_csv(tmp_path / "semi.csv", index=False)
    out = self_train(str(tmp_path / "semi.csv"), target="target", name="bc-semi", key="row_id", threshold=0.9, settings=settings, store=store)
    assert out["pseudo_labels"] > 300 and out["labeled"] == int(data["target"].notna().sum())
    pseudo = pd.read_parquet(out["out"])
    truth = df.set_index("row_id").loc[pseudo["row_id"], "target"].to_numpy()
    assert (pseudo["label"].to_numpy() == truth).mean() > 0.85 and (pseudo["confidence"] >= 0.9).all()
    registry = ModelRegistry.connect(settings)
    model = registry.get(f"bc-semi@{out['version']}")
    reference = load_reference(registry, f"bc-semi@{out['version']}")  # the drift monitor's reference, as training attaches it
    assert reference is not None and reference.rows == out["labeled"]
    graph = store.lineage(("artifact", model["artifact_id"]), direction="up", hops=4).to_dict()
    assert f"file://{tmp_path / 'semi.csv'}" in {n["uri"] for n in graph["nodes"]}
    run_outputs = [a.type for a in store.get_artifacts(type="Dataset") if a.id == out["artifacts"]["pseudo_labels"]]
    assert run_outputs == ["Dataset"]
