"""`raymlops features ...` as a user runs it: subprocesses on the session Ray, JSON, exit codes."""

from __future__ import annotations

import json
import subprocess

import pandas as pd

from raymlops.features.sample import write_driver_repo
from tests.conftest import PYTHON, cli_env


def run(home, address, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "raymlops", "--address", address, "features", *args],
                          capture_output=True, text=True, env=cli_env(home), timeout=300)


def test_features_commands_end_to_end(ray_address, tmp_path):
    home = tmp_path / "home"
    p = write_driver_repo(str(tmp_path / "repo"), drivers=30, hours=30, trips=400, seed=1)
    repo = p["repo"]

    unapplied = run(home, ray_address, "get", repo, "--entity", "driver_id=1003", "--service", "driver_model")
    assert unapplied.returncode == 2 and "is not applied; run `raymlops features apply" in unapplied.stderr
    assert "Traceback" not in unapplied.stderr and len(unapplied.stderr.strip().splitlines()) == 1

    applied = json.loads(run(home, ray_address, "apply", repo, "--json").stdout)
    assert applied["version"] == 1 and set(applied["feature_views"]) == {"driver_hourly", "driver_daily"}
    assert json.loads(run(home, ray_address, "apply", repo, "--json").stdout)["changed"] == []

    out = tmp_path / "train.parquet"
    hist = run(home, ray_address, "historical", repo, "--entities", p["entities"], "--service", "driver_model", "--out", str(out), "--json")
    assert hist.returncode == 0, hist.stderr
    train = pd.read_parquet(out)
    trips = pd.read_parquet(p["entities"])
    assert len(train) == len(trips) and (train["driver_id"].to_numpy() == trips["driver_id"].to_numpy()).all()
    assert list(train.columns) == ["driver_id", "event_timestamp", "completed", "driver_hourly__conv_rate",
                                   "driver_hourly__acc_rate", "driver_hourly__avg_daily_trips", "driver_daily__rating"]

    local = tmp_path / "train_local.parquet"
    r = run(home, ray_address, "historical", repo, "--entities", p["entities"], "--service", "driver_model", "--out", str(local),
            "--engine", "local", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["join"] == "local", r.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(local), train)  # the same rows and types as the Ray path

    ranged = tmp_path / "range.parquet"
    r = run(home, ray_address, "historical", repo, "--start", "2024-05-01T00:00:00", "--end", "2024-05-01T02:00:00",
            "--features", "driver_hourly:conv_rate", "--out", str(ranged), "--json")
    assert r.returncode == 0, r.stderr
    rows = pd.read_parquet(ranged)
    assert len(rows) > 0 and rows["event_timestamp"].is_monotonic_increasing and rows["driver_hourly__conv_rate"].notna().all()

    mat = json.loads(run(home, ray_address, "materialize", repo, "--end", "2024-05-02T05:00:00", "--json").stdout)
    assert mat["views"]["driver_hourly"]["rows_written"] == 30
    got = json.loads(run(home, ray_address, "get", repo, "--entity", "driver_id=1003", "--service", "driver_model",
                         "--at", "2024-05-02T05:00:00", "--json").stdout)
    assert set(got["status"].values()) == {"PRESENT"} and got["features"]["driver_daily__rating"] is not None
    expired = json.loads(run(home, ray_address, "get", repo, "--entity", "driver_id=1003", "--service", "driver_model", "--json").stdout)
    assert set(expired["status"].values()) == {"OUTSIDE_MAX_AGE"} and set(expired["features"].values()) == {None}

    status = json.loads(run(home, ray_address, "status", repo, "--json").stdout)["views"]
    assert {s["view"]: s["online_rows"] for s in status} == {"driver_hourly": 30, "driver_daily": 30}
    assert all(s["freshness_s"] > 0 and s["last_materialization"] for s in status)


def test_features_usage_and_input_errors(ray_address, tmp_path):
    home = tmp_path / "home"
    p = write_driver_repo(str(tmp_path / "repo"), drivers=5, hours=5, trips=20, seed=2)
    repo = p["repo"]
    run(home, ray_address, "apply", repo)
    cases = [
        (("historical", repo, "--service", "driver_model", "--out", "x.parquet"), "pass --entities ENTITY_DATA, or --start and --end"),
        (("historical", repo, "--entities", p["entities"], "--out", "x.parquet"), "pass exactly one of --features"),
        (("historical", repo, "--entities", p["entities"], "--features", "driver_hourly:nope", "--out", "x.parquet"), "has no feature 'nope'"),
        (("historical", repo, "--entities", p["entities"], "--timestamp-col", "ts", "--service", "driver_model", "--out", "x.parquet"), "has no timestamp column 'ts'"),
        (("historical", repo, "--entities", str(tmp_path / "missing.parquet"), "--service", "driver_model", "--out", "x.parquet"), "does not exist"),
        (("materialize", repo), "pass --end T"),
        (("materialize", repo, "--end", "yesterday"), "is not an ISO 8601 timestamp"),
        (("get", repo, "--entity", "1003", "--service", "driver_model"), "must be KEY=VALUE"),
        (("get", repo, "--entity", "driver_id=1", "--service", "driver_model", "--online", "mongo://x"), "unknown online store"),
        (("apply", str(tmp_path / "nope.yaml")), "does not exist"),
    ]
    for args, message in cases:
        r = run(home, ray_address, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    open(repo, "a").write("  - {name: extra, features: [driver_hourly:conv_rate]}\n")
    changed = run(home, ray_address, "materialize", repo, "--end", "2024-05-01T03:00:00")
    assert changed.returncode == 2 and "changed since version 1" in changed.stderr


def test_train_with_a_feature_service_serves_the_new_version_by_entity_key(ray_address, tmp_path):
    home = tmp_path / "home"
    p = write_driver_repo(str(tmp_path / "repo"), drivers=20, hours=24, trips=600, seed=3)
    repo = p["repo"]
    run(home, ray_address, "apply", repo)
    out = tmp_path / "train.parquet"
    assert run(home, ray_address, "historical", repo, "--entities", p["entities"], "--service", "driver_model", "--out", str(out),
               "--engine", "auto").returncode == 0
    train = subprocess.run([PYTHON, "-m", "raymlops", "--address", ray_address, "train", str(out), "--target", "completed",
                            "--name", "drv", "--feature-service", f"{repo}:driver_model", "--json"],
                           capture_output=True, text=True, env=cli_env(home), timeout=300)
    assert train.returncode == 0, train.stderr
    bound = json.loads(train.stdout)["feature_service"]
    assert bound["service"] == "driver_model" and bound["entity_keys"] == ["driver_id"] and bound["online"].startswith("sqlite:///")
    again = json.loads(run(home, ray_address, "bind", repo, "drv@1", "--service", "driver_model", "--json").stdout)
    assert again["features"] == ["driver_hourly__conv_rate", "driver_hourly__acc_rate", "driver_hourly__avg_daily_trips", "driver_daily__rating"]
    for args, message in [
        (("bind", repo, "drv@1", "--service", "nope"), "unknown feature service 'nope'"),
        (("bind", repo, "drv@9", "--service", "driver_model"), "drv@9"),
    ]:
        r = run(home, ray_address, *args)
        assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
    bad = subprocess.run([PYTHON, "-m", "raymlops", "train", str(out), "--target", "completed", "--name", "x",
                          "--feature-service", "driver_model"], capture_output=True, text=True, env=cli_env(home), timeout=120)
    assert bad.returncode == 2 and "must be REPO.yaml:SERVICE" in bad.stderr and "Traceback" not in bad.stderr
