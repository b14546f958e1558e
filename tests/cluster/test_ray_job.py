"""`ray start --head` + `ray job submit` of jobs/train_baseline.py, then the CLI sees the model."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

from tests.conftest import PYTHON, REPO, cli_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_and_roll_out_through_the_cli(env: dict, home) -> None:
    """`serve up` on the running cluster, then `rollout start|status|promote` from other processes."""
    import requests

    from raymlops.core.config import Settings
    from raymlops.registry import ModelRegistry

    reg = ModelRegistry.connect(Settings.resolve(home=home, env={}))
    reg.register(reg.load("job-model@1"), "job-model", signature=reg.get("job-model@1")["signature"])  # version 2
    cli_env_ = {**env, "RAY_ADDRESS": f"127.0.0.1:{env['RAY_PORT']}", "RAY_AUTH_MODE": "token"}
    port = _free_port()

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PYTHON, "-m", "raymlops", *args], env=cli_env_, capture_output=True, text=True, timeout=300)

    up = cli("serve", "up", "--model", "job-model@champion", "--port", str(port), "--json")
    assert up.returncode == 0, up.stderr[-3000:]
    url = json.loads(up.stdout)["url"]
    row = {c["name"]: 1.0 for c in reg.get("job-model@1")["signature"]["inputs"]}
    assert requests.post(f"{url}/v1/models/job-model:predict", json={"instances": [row]}, timeout=30).headers["x-model-version"] == "1"
    started = cli("rollout", "start", "job-model", "--to", "2", "--strategy", "canary", "--percent", "30", "--json")
    assert started.returncode == 0, started.stderr[-3000:]
    status = json.loads(cli("rollout", "status", "job-model", "--json").stdout)
    assert {"name", "strategy", "routes", "state", "decisions", "shadow"} <= set(status)
    assert status["routes"] == [{"version": 2, "percent": 30.0}, {"version": 1, "percent": 70.0}]
    moved = json.loads(cli("rollout", "start", "job-model", "--to", "2", "--strategy", "canary", "--percent", "60", "--json").stdout)
    assert moved["routes"][0] == {"version": 2, "percent": 60.0}
    promoted = json.loads(cli("rollout", "promote", "job-model", "--json").stdout)
    assert promoted["state"] == "PROMOTED" and promoted["routes"] == [{"version": 2, "percent": 100.0}]
    deadline = time.time() + 10  # every ingress replica polls the new table (within 2 s; slack for a loaded machine)
    while True:
        rs = [requests.post(f"{url}/v1/models/job-model:predict", json={"instances": [row]}, timeout=30) for _ in range(8)]
        if all(r.headers.get("x-model-version") == "2" for r in rs) or time.time() > deadline:
            break
        time.sleep(0.5)
    assert [(r.status_code, r.headers.get("x-model-version")) for r in rs] == [(200, "2")] * 8
    deadline = time.time() + 20  # replicas flush their sketches to the model's monitor every 2 s
    while True:  # until the monitor has both versions' rows (the second flush may come later)
        mon = cli("monitor", "status", "job-model", "--json")
        seen = sum(v["rows"] for v in json.loads(mon.stdout)["versions"].values()) if mon.returncode == 0 else 0
        if seen >= 2 or time.time() > deadline:
            break
        time.sleep(1)
    assert mon.returncode == 0, mon.stderr[-2000:]
    st = json.loads(mon.stdout)
    assert {"name", "window", "features", "dataset_drift", "concept_drift"} <= set(st)
    assert st["name"] == "job-model" and sum(v["rows"] for v in st["versions"].values()) >= 2
    no_monitor = cli("monitor", "status", "nope")
    assert no_monitor.returncode == 2 and "no drift monitor for nope" in no_monitor.stderr
    missing = cli("rollout", "status", "nope", "--json")
    assert missing.returncode == 2 and "not served" in missing.stderr


def test_submitted_job_registers_a_model_visible_from_the_cli(tmp_path):
    home = tmp_path / "home"
    ray_tmp = tempfile.mkdtemp(prefix="rmjob-", dir="/tmp")  # AF_UNIX socket paths are short
    env = cli_env(
        home,
        RAY_TMP=ray_tmp,
        RAY_PORT=str(_free_port()),
        RAY_DASHBOARD_PORT=str(_free_port()),
        RAY_CLIENT_PORT=str(_free_port()),
        RAY_AGENT_PORT=str(_free_port()),
        RAY_NUM_CPUS="1",
        VENV_BIN=os.path.dirname(PYTHON),
    )
    script = str(REPO / "cluster" / "local.sh")
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True, timeout=400)  # up to 3 attempts
    try:
        assert started.returncode == 0, started.stderr + started.stdout
        job = subprocess.run(
            [script, "submit", "--dataset", "iris", "--name", "job-model"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-3000:]
        assert "succeeded" in job.stdout + job.stderr
        data_job = subprocess.run(
            [script, "submit", str(REPO / "jobs" / "data_pipeline.py"), "sklearn://wine", "--target", "target"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert data_job.returncode == 0, data_job.stdout[-3000:] + data_job.stderr[-3000:]
        assert '"rows_in": 178' in data_job.stdout
        _serve_and_roll_out_through_the_cli(env, home)
    finally:
        stopped = subprocess.run([script, "stop"], env=env, capture_output=True, text=True, timeout=120)
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert stopped.returncode == 0
    shown = subprocess.run(
        [PYTHON, "-m", "raymlops", "models", "show", "job-model@champion", "--json"],
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    rec = json.loads(shown.stdout)
    assert rec["version"] == 1 and "champion" in rec["aliases"]
    lineage = json.loads(
        subprocess.run(
            [PYTHON, "-m", "raymlops", "lineage", "job-model@champion", "--direction", "up", "--json"],
            env=cli_env(home),
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    )
    assert {n["type"] for n in lineage["nodes"]} >= {"Model", "Run", "Dataset", "Ingest", "ExternalSource"}
