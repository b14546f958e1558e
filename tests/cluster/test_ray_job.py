"""`ray start --head` + `ray job submit` of jobs/train_baseline.py, then the CLI sees the model."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile

from tests.conftest import PYTHON, REPO, cli_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True, timeout=120)
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
