"""`raymlops drift` in exact mode (no Ray): JSON shape, verdicts equal to the library's, HTML, exit codes."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pytest

from raymlops.monitoring import judge
from tests.conftest import PYTHON, cli_env


def run(home, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "raymlops", *args], capture_output=True, text=True, env=cli_env(home), timeout=120)


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    ref = pd.DataFrame({"age": rng.normal(40, 10, n), "income": rng.lognormal(10, 1, n), "city": rng.choice(["a", "b", "c"], n)})
    same = pd.DataFrame({"age": rng.normal(40, 10, n), "income": rng.lognormal(10, 1, n), "city": rng.choice(["a", "b", "c"], n)})
    shifted = same.assign(age=same.age + 8, city=rng.choice(["a", "b", "c"], n, p=[0.7, 0.2, 0.1]))
    paths = {}
    for name, df in (("ref", ref), ("same", same), ("shifted", shifted)):
        paths[name] = tmp_path / f"{name}.csv"
        df.to_csv(paths[name], index=False)
    return paths, ref, shifted


def test_drift_json_matches_the_library_and_exits_1_on_dataset_drift(home, files, tmp_path):
    paths, ref, shifted = files
    res = run(home, "drift", str(paths["ref"]), str(paths["shifted"]), "--json", "--html", str(tmp_path / "r.html"))
    assert res.returncode == 1, res.stderr
    out = json.loads(res.stdout)
    assert {"columns", "drift_share", "dataset_drift"} <= set(out) and out["mode"] == "exact"
    for c in out["columns"]:
        assert {"column", "kind", "test", "statistic", "threshold", "p_value", "drift"} <= set(c)
    want = judge(ref, shifted)
    assert [(c["column"], c["test"], c["drift"]) for c in out["columns"]] == [(c.column, c.test, c.drift) for c in want.columns]
    for got, exp in zip(out["columns"], want.columns):
        assert got["statistic"] == pytest.approx(exp.statistic, rel=1e-12)
    assert {c["column"] for c in out["columns"] if c["drift"]} == {"age", "city"} and out["dataset_drift"]
    html = (tmp_path / "r.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "http://" not in html.replace("http://www.w3.org", "")
    for col in ("age", "income", "city"):
        assert col in html


def test_drift_no_drift_exits_0_and_tfdv_names_divergences(home, files):
    paths, _, _ = files
    res = run(home, "drift", str(paths["ref"]), str(paths["same"]), "--json", "--preset", "tfdv")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert not out["dataset_drift"]
    tests = {c["column"]: c["test"] for c in out["columns"]}
    assert tests == {"age": "jensenshannon_divergence_base2", "income": "jensenshannon_divergence_base2", "city": "linf"}
    human = run(home, "drift", str(paths["ref"]), str(paths["same"]))
    assert "no dataset drift" in human.stdout and "evidently preset, exact mode" in human.stdout


def test_drift_bad_input_is_one_line_exit_2(home, files, tmp_path):
    paths, _, _ = files
    missing = run(home, "drift", str(paths["ref"]), str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "nope.csv" in missing.stderr
    other = tmp_path / "other.csv"
    pd.DataFrame({"zzz": [1, 2, 3]}).to_csv(other, index=False)
    none = run(home, "drift", str(paths["ref"]), str(other))
    assert none.returncode == 2 and "share no column" in none.stderr and "Traceback" not in none.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("age,income,city\n")
    e = run(home, "drift", str(paths["ref"]), str(empty))
    assert e.returncode == 2 and "no rows" in e.stderr
    prof = tmp_path / "p.json"
    prof.write_text(json.dumps({"format": "raymlops.profile/1", "rows": 0, "relative_accuracy": 0.01, "columns": {}}))
    ex = run(home, "drift", str(prof), str(paths["ref"]), "--mode", "exact")
    assert ex.returncode == 2 and "--mode sketch" in ex.stderr
