"""`raymlops labels` in process: the --json contract, and one test per bad input the issue lists."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from raymlops.cli import main
from raymlops.labeling.simulate import simulate_crowd

from .conftest import load_fixture


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out, err = capsys.readouterr()
    return e.value.code, out, err


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setenv("RAYMLOPS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    c = simulate_crowd(n_tasks=400, n_workers=40, n_classes=3, seed=2)
    c.annotations.to_csv(tmp_path / "ann.csv", index=False)
    c.gold.to_csv(tmp_path / "gold.csv", index=False)
    return tmp_path, c


def test_aggregate_json_contract(files, capsys):
    d, c = files
    code, out, err = run(capsys, "labels", "aggregate", str(d / "ann.csv"), "--gold", str(d / "gold.csv"), "--sme", "sme0", "--out", str(d / "labels.parquet"), "--json")
    assert code == 0, err
    r = json.loads(out)
    assert {"tasks", "workers", "classes", "method", "iterations", "converged", "out", "workers_out", "gold", "needs_labels"} <= set(r)
    assert r["method"] == "ds" and r["classes"] == [0, 1, 2] and set(r["gold"]) >= {"tasks", "accuracy"}
    labels = pd.read_parquet(d / "labels.parquet")
    assert list(labels.columns[:4]) == ["task", "label", "confidence", "n_labels"] and {"proba_0", "proba_1", "proba_2"} <= set(labels.columns)
    assert len(r["needs_labels"]) == 20


def test_aggregate_human_output_names_the_worst_workers(files, capsys):
    d, _ = files
    code, out, _ = run(capsys, "labels", "aggregate", str(d / "ann.csv"), "--method", "wawa")
    assert code == 0 and "least reliable workers" in out and "next to label" in out


def test_missing_column(files, capsys):
    d, c = files
    c.annotations.rename(columns={"worker": "annotator"}).to_csv(d / "bad.csv", index=False)
    code, _, err = run(capsys, "labels", "aggregate", str(d / "bad.csv"))
    assert code == 2 and err.count("\n") == 1
    assert "no column 'worker'" in err and "--worker-col" in err
    code, _, _ = run(capsys, "labels", "aggregate", str(d / "bad.csv"), "--worker-col", "annotator")
    assert code == 0


def test_unknown_class_in_gold(files, capsys):
    d, c = files
    pd.DataFrame({"task": [0, 1], "label": [0, 9]}).to_csv(d / "badgold.csv", index=False)
    code, _, err = run(capsys, "labels", "aggregate", str(d / "ann.csv"), "--gold", str(d / "badgold.csv"))
    assert code == 2 and err.count("\n") == 1 and "gold row 1: label 9 of task 1" in err


def test_task_with_no_label(files, capsys):
    d, c = files
    bad = c.annotations.astype(object)
    bad.loc[7, "label"] = None
    bad.to_csv(d / "empty.csv", index=False)
    code, _, err = run(capsys, "labels", "aggregate", str(d / "empty.csv"), "--json")
    assert code == 2
    assert f"row 7: column 'label' is empty (task {c.annotations.loc[7, 'task']} has no label there)" in err


def test_lf_file_that_raises(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAYMLOPS_HOME", str(tmp_path / "home"))
    pd.DataFrame({"id": [1, 2, 3], "x": [1.0, -2.0, 3.0]}).to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "lfs.py").write_text(
        "from raymlops.labeling import labeling_function\n"
        "@labeling_function()\ndef fine(df):\n    return (df['x'] > 0).astype(int) * 2 - 1\n"
        "@labeling_function()\ndef broken(row):\n    return 1 if row['x'] > 0 else row['y']\n"
    )
    code, _, err = run(capsys, "labels", "apply-lfs", str(tmp_path / "data.csv"), "--lfs", str(tmp_path / "lfs.py"), "--key", "id", "--out", str(tmp_path / "L.parquet"), "--local")
    assert code == 2 and err.count("\n") == 1
    assert "labeling function 'broken' raised KeyError: 'y' on row 1 (id=2) at lfs.py:7" in err


def test_apply_lfs_and_weak_in_process(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAYMLOPS_HOME", str(tmp_path / "home"))
    pd.DataFrame({"id": range(8), "x": [1.0, -2.0, 3.0, 0.1, -0.5, 2.0, -3.0, 0.0], "y": [1, 0, 1, 1, 0, 1, 0, 0]}).to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "lfs.py").write_text(
        "from raymlops.labeling import labeling_function\nCLASSES = ['neg', 'pos']\n"
        "@labeling_function()\ndef pos(df):\n    return df['x'].map(lambda v: 'pos' if v > 0.5 else -1)\n"
        "@labeling_function()\ndef neg(df):\n    return df['x'].map(lambda v: 'neg' if v < -0.2 else -1)\n"
    )
    code, out, err = run(capsys, "labels", "apply-lfs", str(tmp_path / "data.csv"), "--lfs", str(tmp_path / "lfs.py"), "--gold-col", "y", "--key", "id", "--out", str(tmp_path / "L.parquet"), "--local", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert r["rows"] == 8 and [lf["name"] for lf in r["lfs"]] == ["pos", "neg"]
    assert {"polarity", "coverage", "overlaps", "conflicts", "correct", "incorrect", "emp_acc"} <= set(r["lfs"][0])
    assert r["lfs"][0]["emp_acc"] == 1.0
    code, out, err = run(capsys, "labels", "weak", str(tmp_path / "data.csv"), "--lfs", str(tmp_path / "lfs.py"), "--key", "id", "--out", str(tmp_path / "weak.parquet"), "--local", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert r["labeled"] + r["uncovered"] == 8 and r["uncovered"] == 2
    weak = pd.read_parquet(tmp_path / "weak.parquet")
    assert set(weak["label"]) == {"neg", "pos"} and len(weak) == 6


def test_import_label_studio_then_aggregate(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAYMLOPS_HOME", str(tmp_path / "home"))
    (tmp_path / "export.json").write_text(json.dumps(load_fixture("label_studio.json")["export"]))
    code, out, err = run(capsys, "labels", "import-label-studio", str(tmp_path / "export.json"), "--out", str(tmp_path / "ann.parquet"), "--key", "id", "--gold-out", str(tmp_path / "gold.parquet"), "--json")
    assert code == 0, err
    r = json.loads(out)
    assert (r["annotations"], r["tasks"], r["workers"], r["ground_truth"]) == (3, 2, 2, 1)
    code, out, err = run(capsys, "labels", "aggregate", str(tmp_path / "ann.parquet"), "--gold", str(tmp_path / "gold.parquet"), "--method", "mv", "--json")
    assert code == 0, err and json.loads(out)["gold"]["tasks"] == 1


def test_import_of_something_else(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAYMLOPS_HOME", str(tmp_path / "home"))
    (tmp_path / "x.json").write_text('{"tasks": []}')
    code, _, err = run(capsys, "labels", "import-label-studio", str(tmp_path / "x.json"), "--out", str(tmp_path / "a.parquet"))
    assert code == 2 and "a Label Studio export is a JSON list of tasks" in err


def test_join_gives_a_weighted_training_table(files, capsys):
    d, c = files
    run(capsys, "labels", "aggregate", str(d / "ann.csv"), "--out", str(d / "labels.parquet"))
    pd.DataFrame({"task": range(400), "f": range(400)}).to_csv(d / "features.csv", index=False)
    code, out, err = run(capsys, "labels", "join", str(d / "features.csv"), str(d / "labels.parquet"), "--key", "task", "--out", str(d / "train.parquet"), "--weights", "soft", "--json")
    assert code == 0, err
    t = pd.read_parquet(d / "train.parquet")
    assert set(t.columns) == {"task", "f", "label", "weight"}
    assert t.groupby("task")["weight"].sum().round(9).eq(1.0).all()
