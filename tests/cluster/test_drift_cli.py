"""`raymlops drift` in sketch mode: streaming profiles on Ray Data, saved profiles as a side."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd

from raymlops.monitoring.batch import batch_drift
from raymlops.monitoring import judge
from tests.conftest import PYTHON, cli_env


def run(home, address, *args: str) -> subprocess.CompletedProcess:
    env = cli_env(home, RAY_ADDRESS=address)
    return subprocess.run([PYTHON, "-m", "raymlops", *args], capture_output=True, text=True, env=env, timeout=300)


def test_sketch_mode_agrees_with_exact_mode_and_takes_a_saved_profile(ray_session, ray_address, tmp_path):
    rng = np.random.default_rng(3)
    n = 20_000
    ref = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.exponential(2, n), "k": rng.choice(list("pqrs"), n)})
    cur = pd.DataFrame({"a": rng.normal(0.4, 1, n), "b": rng.exponential(2, n), "k": rng.choice(list("pqrs"), n, p=[0.55, 0.15, 0.15, 0.15])})
    (tmp_path / "ref").mkdir()
    for i, part in enumerate(np.array_split(np.arange(n), 3)):  # a folder of files, read in parallel
        ref.iloc[part].to_parquet(tmp_path / "ref" / f"part-{i}.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")

    report, prof_ref, prof_cur, mode = batch_drift(str(tmp_path / "ref"), str(tmp_path / "cur.parquet"), mode="sketch", settings=ray_session)
    exact = judge(ref, cur)
    assert mode == "sketch" and prof_ref.rows == n and prof_cur.rows == n
    assert [(c.column, c.test, c.drift) for c in report.columns] == [(c.column, c.test, c.drift) for c in exact.columns]
    for got, want in zip(report.columns, exact.columns):
        assert abs(got.statistic - want.statistic) <= got.bound + 1e-12
    prof_ref.save(tmp_path / "ref.json")
    prof_cur.save(tmp_path / "cur.json")

    home = tmp_path / "home"
    res = run(home, ray_address, "drift", str(tmp_path / "ref.json"), str(tmp_path / "cur.json"), "--json", "--html", str(tmp_path / "r.html"))
    assert res.returncode == 1, res.stderr[-2000:]
    out = json.loads(res.stdout)
    assert out["mode"] == "sketch" and [c["drift"] for c in out["columns"]] == [c.drift for c in report.columns]
    assert (tmp_path / "r.html").read_text().count("<svg") >= 3
    streamed = run(home, ray_address, "drift", str(tmp_path / "ref.json"), str(tmp_path / "cur.parquet"), "--json")
    assert streamed.returncode == 1, streamed.stderr[-2000:]
    assert [c["statistic"] for c in json.loads(streamed.stdout)["columns"]] == [c["statistic"] for c in out["columns"]]
