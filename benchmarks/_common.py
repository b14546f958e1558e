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


def side_venv(name: str, requirement: str | list[str]) -> Path | None:
    """A separate virtualenv for a baseline whose pins clash with ours (created once).

    ``requirement`` is one pip requirement or a list of them, installed in order (one
    ``pip install`` each, so a first pin such as ``torch==2.13.0`` holds for the rest).
    """
    venv = HERE / f".venv-{name}"
    py = venv / "bin" / "python"
    done = venv / ".installed"
    if not done.exists():
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        for req in [requirement] if isinstance(requirement, str) else requirement:
            res = subprocess.run([str(py), "-m", "pip", "install", "-q", *req.split()], capture_output=True, text=True)
            if res.returncode != 0:
                print(f"baseline {req} could not be installed: {res.stderr.strip()[-300:]}")
                return None
        done.touch()
    return py


REPO = HERE.parent


def add_repo_to_path() -> None:
    """Make ``tests.unit.fixtures`` importable; appended, so an installed raymlops wins."""
    if str(REPO) not in sys.path:
        sys.path.append(str(REPO))


def pinned_venv(name: str, pins: tuple[str, ...] | list[str], *, note: str = "") -> Path:
    """A parity script's side virtualenv with exactly ``pins`` (re-installed when they change).

    The pins go to one ``pip install`` (pip resolves them together). Exits with pip's
    message when they cannot be installed: a parity survey without its peer has nothing to say.
    """
    venv = HERE / f".venv-{name}"
    py = venv / "bin" / "python"
    stamp = venv / ".parity-pins"
    wanted = "\n".join(pins) + "\n"
    if not py.exists():
        print(f"creating {venv.relative_to(REPO)}{note} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not stamp.exists() or stamp.read_text() != wanted:
        print(f"installing {' '.join(pins)} ...", file=sys.stderr)
        res = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins], capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"could not install {' '.join(pins)} into {venv}:\n{res.stderr.strip()[-2000:]}")
        stamp.write_text(wanted)
    return py


def run_worker(py: Path, script: str | Path, env: dict[str, str], what: str) -> dict:
    """Run ``script --worker`` under the side venv's ``py`` (niced, with ``env`` and none of
    our ``PYTHON*`` variables); its last stdout line is JSON."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    full.update(env)
    cmd = [str(py), str(Path(script).resolve()), "--worker"]
    if hasattr(os, "nice"):
        cmd = ["nice", "-n", "5", *cmd]
    res = subprocess.run(cmd, capture_output=True, text=True, env=full, cwd=str(REPO))
    if res.returncode != 0:
        sys.exit(f"the {what} worker failed:\n{res.stderr.strip()[-4000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def report(name: str, figures: dict) -> None:
    print(json.dumps({"benchmark": name, "machine": machine(), **figures}, indent=2))


def measured(python: str | Path, code: str, *args: str, timeout: float = 3600) -> dict:
    """Run ``code`` in a fresh process; its last stdout line is JSON; adds ``peak_rss_mb``.

    The peak resident memory and the CPU time (user + system, ``cpu_seconds``) are the
    child's own (``RUSAGE_CHILDREN`` of a wrapper), so each figure is of that workload
    alone; CPU time is steadier than wall time on a machine shared with other work.
    """
    wrapper = (
        "import json, resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "ru = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "peak = ru.ru_maxrss / 1024\n"
        "out = p.stdout.strip().splitlines()\n"
        "res = json.loads(out[-1]) if p.returncode == 0 and out else {'error': p.stderr[-1500:]}\n"
        "res['peak_rss_mb'] = round(peak, 1)\n"
        "res['cpu_seconds'] = round(ru.ru_utime + ru.ru_stime, 2)\n"
        "print(json.dumps(res))\n"
    )
    res = subprocess.run([sys.executable, "-c", wrapper, str(python), "-c", code, *args], capture_output=True, text=True, timeout=timeout)
    return json.loads(res.stdout.strip().splitlines()[-1])
