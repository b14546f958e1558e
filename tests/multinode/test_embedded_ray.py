"""Without an address, raymlops starts a Ray of its own even when another runs on the machine."""

from __future__ import annotations

import subprocess

from tests.conftest import PYTHON, cli_env

PROBE = (
    "from raymlops.core import runtime; runtime.init(num_cpus=1); import ray; "
    "print(ray.get_runtime_context().gcs_address, len(ray.nodes()))"
)


def test_without_an_address_the_driver_does_not_join_the_running_cluster(two_nodes, tmp_path):
    _, cluster = two_nodes
    res = subprocess.run([PYTHON, "-c", PROBE], env=cli_env(tmp_path / "home"), capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]
    gcs, nodes = res.stdout.split()
    assert gcs != cluster.address and int(nodes) == 1, (gcs, cluster.address, nodes)
