"""Helpers shared by the benchmark scripts: machine facts and RESULTS.md-friendly output."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gb, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def side_venv(name: str, requirement: str) -> Path | None:
    """A separate virtualenv for a baseline whose pins clash with ours (created once)."""
    venv = HERE / f".venv-{name}"
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        res = subprocess.run([str(py), "-m", "pip", "install", "-q", requirement], capture_output=True, text=True)
        if res.returncode != 0:
            print(f"baseline {requirement} could not be installed: {res.stderr.strip()[-300:]}")
            return None
    return py


def report(name: str, figures: dict) -> None:
    print(json.dumps({"benchmark": name, "machine": machine(), **figures}, indent=2))
