"""The serving package: its public names, and a pure core that imports no Ray."""

from __future__ import annotations

import ast
import subprocess
import sys

import raymlops.serving
from raymlops.serving.app import build_app  # the import path of Serve configs and KubeRay
from tests.conftest import REPO

SERVING = REPO / "raymlops" / "serving"
SHELL = {"app.py", "controller_actor.py", "ingress_deployment.py", "server_deployment.py"}
"""The Ray shell: the only serving modules that may import Ray."""


def _imports(path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
    return out


def test_every_exported_name_resolves():
    assert len(set(raymlops.serving.__all__)) == len(raymlops.serving.__all__)
    for name in ("RolloutPlan", "Rollout", "RoutingTable", "GATE_TYPES", "STRATEGIES", "build_app", "deploy",
                 "get_controller", "ClientError", "ModelNotServedError", "ErrorRateGate"):  # fmt: skip
        assert name in raymlops.serving.__all__
    for name in raymlops.serving.__all__:
        assert getattr(raymlops.serving, name) is not None
    assert raymlops.serving.build_app is build_app


def test_only_the_shell_modules_import_ray():
    pure = [p for p in SERVING.rglob("*.py") if p.relative_to(SERVING).as_posix() not in SHELL]
    assert len(pure) > 30
    for path in pure:
        ray_imports = {m for m in _imports(path) if m == "ray" or m.startswith(("ray.", "fastapi", "starlette"))}
        assert not ray_imports, f"{path.relative_to(REPO)} imports {ray_imports}"


def test_importing_the_package_does_not_load_ray_serve():
    code = (
        "import sys, raymlops.serving, raymlops.cli.serve; "
        "assert 'ray.serve' not in sys.modules and 'fastapi' not in sys.modules, 'serve loaded'"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
