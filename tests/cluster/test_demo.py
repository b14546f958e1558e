"""`raymlops demo` end to end, as `make demo` runs it."""

from __future__ import annotations

import subprocess

from tests.conftest import PYTHON, cli_env


def test_demo_prints_the_champions_lineage(tmp_path):
    res = subprocess.run(
        [PYTHON, "-m", "raymlops", "demo"], env=cli_env(tmp_path / "home"), capture_output=True, text=True, timeout=900
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = res.stdout
    assert "lineage of breast-cancer@champion" in out
    tail = out.split("lineage of breast-cancer@champion:")[1]
    for node in ("Model [artifact:", "<- Run [execution:", "<- Dataset [artifact:", "<- ExternalSource [artifact:"):
        assert node in tail
    assert "Traceback" not in res.stderr
