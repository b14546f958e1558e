"""`raymlops demo` end to end, as `make demo` runs it."""

from __future__ import annotations

import socket
import subprocess

from tests.conftest import PYTHON, cli_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_prints_the_champions_lineage(tmp_path):
    res = subprocess.run(
        [PYTHON, "-m", "raymlops", "demo", "--port", str(_free_port())],
        env=cli_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = res.stdout
    assert "lineage of breast-cancer@champion" in out
    tail = out.split("lineage of breast-cancer@champion:")[1]
    for node in ("Model [artifact:", "<- Run [execution:", "<- Dataset [artifact:", "<- ExternalSource [artifact:"):
        assert node in tail
    assert "canary outcome: PROMOTED" in out and " 0 failed" in out
    shift = out.split("now a new imaging device")[1]
    assert "(20 features)" in shift.splitlines()[0], shift  # the 10 mean_ and 10 worst_ measurements
    assert "dataset drift: True; prediction drift:" in shift, out[out.index("monitor:") :]
    assert "Traceback" not in res.stderr
