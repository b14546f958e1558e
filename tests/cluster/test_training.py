"""Training on a real Ray: Tune sweep runs, registration with lineage, evaluation and blessing."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pytest

from raymlops.metadata import connect
from raymlops.tracking import MetricStore
from raymlops.registry import ModelRegistry, PromotionRefusedError
from raymlops.training.evaluate import Threshold
from raymlops.training.models import compose, make_estimator
from raymlops.training.train import Trainer
from tests.conftest import PYTHON, cli_env


def make_data(path, n: int = 5000, seed: int = 0) -> str:
    """Labels follow a + b, except on color=red where a third of them are flipped."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "noise": rng.normal(size=n),
            "color": rng.choice(["red", "green", "blue"], n, p=[0.2, 0.4, 0.4]),
        }
    )
    y = (df["a"] + df["b"] > 0).astype(int)
    red = (df["color"] == "red").to_numpy()
    flip = red & (rng.random(n) < 0.35)
    df["label"] = np.where(flip, 1 - y, y)
    df.to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def trained(ray_session, tmp_path_factory):
    raw = make_data(tmp_path_factory.mktemp("train") / "raw.csv")
    trainer = Trainer(ray_session)
    prep = trainer.prepare(raw, target="label")
    result = trainer.fit(raw, target="label", name="planted", tune_trials=4, slices=["color"], prepared=prep)
    return raw, trainer, prep, result


def test_a_sweep_of_4_trials_records_4_runs_and_registers_the_best_with_lineage(ray_session, trained):
    raw, trainer, prep, result = trained
    store = connect(ray_session)
    trial_runs = [r for r in result.runs if r["name"].startswith("trial ")]
    assert len(trial_runs) == 4 and len(result.sweep) == 4
    for r in trial_runs:
        ex = store.get_execution(r["id"])
        assert ex.state == "COMPLETE"
        assert {"learning_rate", "max_leaf_nodes", "seed"} <= set(ex.properties["params"])
        hist = store.extension(MetricStore).get_metric_history(r["id"], "accuracy")
        assert len(hist) >= 1 and [h["step"] for h in hist] == sorted(h["step"] for h in hist)
    # the registered model is an output of one of the recorded runs, whose lineage reaches the raw file
    rec = trainer.registry.get(f"planted@{result.version}")
    assert rec["run_id"] in [r["id"] for r in result.runs]
    g = store.lineage(("artifact", rec["artifact_id"]), direction="up", hops=40)
    types = {n["type"] for n in g.nodes.values()}
    assert {"Model", "Run", "Dataset", "Split", "Validate", "Ingest"} <= types
    assert any(n["uri"] == f"file://{raw}" for n in g.nodes.values())
    run_node = g.nodes[f"execution:{rec['run_id']}"]
    assert run_node["distance"] == 1


def test_the_evaluation_has_per_slice_metrics_and_finds_the_weak_slice(trained):
    _, _, _, result = trained
    by_slice = result.evaluation["by_slice"]
    assert {"color=red", "color=green", "color=blue"} <= set(by_slice)
    assert by_slice["color=red"]["accuracy"] < by_slice["color=green"]["accuracy"]
    assert result.worst_slices and "color=red" in result.worst_slices[0]["name"]
    assert result.blessed  # first model: change thresholds skipped, beats the dummy


def test_a_worse_candidate_is_not_blessed_and_cannot_become_champion(ray_session, trained):
    _, trainer, prep, result = trained
    reg: ModelRegistry = trainer.registry
    reg.set_alias("planted", result.version, "champion", reason="first blessed model")
    X, y = prep.xy("train")
    worse = compose(prep.transform, make_estimator("linear", "classification", {"C": 1e-4}).fit(prep.transform.transform(X[["noise"]].assign(a=0, b=0, color="red")[X.columns]), y))
    v_worse = reg.register(worse, "planted", input_example=X.head())["version"]
    _, blessing, _ = trainer.evaluate_and_bless("planted", v_worse, prep, metric="accuracy")
    assert blessing["verdict"] == "NOT_BLESSED"
    assert any(c["kind"] == "change" for c in blessing["failed"])
    with pytest.raises(PromotionRefusedError, match="NOT_BLESSED"):
        reg.set_alias("planted", v_worse, "champion")
    assert reg.get("planted@champion")["version"] == result.version
    forced = reg.set_alias("planted", v_worse, "champion", reason="incident drill", force=True)
    assert forced["forced"] and "NOT_BLESSED" in forced["reason"]
    reg.set_alias("planted", result.version, "champion", reason="back to the blessed one")

    better = trainer.registry.load(f"planted@{result.version}")
    v_same = reg.register(better, "planted", input_example=X.head())["version"]
    _, ok, _ = trainer.evaluate_and_bless("planted", v_same, prep, metric="accuracy")
    assert ok["verdict"] == "BLESSED"
    reg.set_alias("planted", v_same, "champion", reason="blessed")


def test_a_per_slice_threshold_failure_names_its_slice(trained):
    _, trainer, prep, result = trained
    _, blessing, _ = trainer.evaluate_and_bless(
        "planted", result.version, prep, metric="accuracy", slices=["color"],
        thresholds=[Threshold(metric="accuracy", lower=0.8, slices="all")],
    )
    assert blessing["verdict"] == "NOT_BLESSED"
    messages = [c["message"] for c in blessing["failed"]]
    assert any("color=red" in msg for msg in messages), messages
    assert not any("color=green" in msg for msg in messages)


def _cli(address, home, *args):
    return subprocess.run([PYTHON, "-m", "raymlops", *args], capture_output=True, text=True, env=cli_env(home, RAY_ADDRESS=address), timeout=600)


def test_cli_train_json_and_bad_input(ray_address, tmp_path):
    home = tmp_path / "home"
    raw = make_data(tmp_path / "raw.csv", n=600)
    ok = _cli(ray_address, home, "train", raw, "--target", "label", "--name", "cli-model", "--slice", "color", "--json")
    assert ok.returncode == 0, ok.stderr[-2000:]
    out = json.loads(ok.stdout)
    assert {"name", "version", "metrics", "blessed", "runs"} <= set(out)
    pd.DataFrame({"x": [i % 7 for i in range(50)], "label": 1}).to_csv(tmp_path / "constant.csv", index=False)
    pd.DataFrame({"rid": range(50), "label": [i % 2 for i in range(50)]}).to_csv(tmp_path / "idonly.csv", index=False)
    (tmp_path / "bad.yaml").write_text("learning_rate: {triangular: [0, 1]}\n")
    for args, needle in (
        ((raw, "--target", "nope", "--name", "m1"), "'nope'"),
        ((str(tmp_path / "constant.csv"), "--target", "label", "--name", "m2"), "single class"),
        ((str(tmp_path / "idonly.csv"), "--target", "label", "--name", "m5"), "--keep-column"),
        ((raw, "--target", "label", "--name", "m6", "--keep-column", "nope"), "cannot keep"),
        ((raw, "--target", "label", "--name", "m7", "--weight-col", "a", "--keep-column", "a"), "it is the sample weight"),
        ((raw, "--target", "label", "--name", "m3", "--tune", "2", "--space", str(tmp_path / "bad.yaml")), "triangular"),
        ((raw, "--target", "label", "--name", "m4", "--metric", "rmse"), "rmse"),
    ):
        res = _cli(ray_address, home, "train", *args)
        assert res.returncode == 2, (args, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and "Traceback" not in res.stderr, res.stderr
    missing_teacher = _cli(ray_address, home, "distill", raw, "--target", "label", "--teacher", "nope@1", "--name", "s0")
    assert missing_teacher.returncode == 2 and "not in the registry" in missing_teacher.stderr
    listed = json.loads(_cli(ray_address, home, "models", "list", "--json").stdout)
    assert [m["name"] for m in listed] == ["cli-model"]  # nothing registered by the bad calls

    distilled = _cli(ray_address, home, "distill", raw, "--target", "label", "--teacher", "cli-model@1", "--name", "cli-student", "--trials", "2", "--json")
    assert distilled.returncode == 0, distilled.stderr[-2000:]
    d = json.loads(distilled.stdout)
    assert {"name", "version", "trials"} <= set(d) and d["version"] == 1 and len(d["trials"]) == 2
    for t in d["trials"]:
        assert {"temperature", "alpha", "accuracy", "latency_ms", "size_bytes", "pareto"} <= set(t)
    assert any(t["pareto"] for t in d["trials"])
    g = json.loads(_cli(ray_address, home, "lineage", "cli-student@1", "--direction", "up", "--hops", "2", "--json").stdout)
    teacher_art = json.loads(_cli(ray_address, home, "models", "show", "cli-model@1", "--json").stdout)["artifact_id"]
    assert f"artifact:{teacher_art}" in {n["id"] for n in g["nodes"]}  # student -> its run -> the teacher

    fixed = _cli(ray_address, home, "remediate", raw, "--target", "label", "--model", "cli-model@1", "--slice", "color=red", "--method", "thresholds", "--json")
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    r = json.loads(fixed.stdout)
    assert set(r["comparison"]) >= {"slice_gap", "overall"} and r["method"] == "thresholds"
