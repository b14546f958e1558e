"""A two-node Ray cluster (ray.cluster_utils.Cluster) for the whole session."""

from __future__ import annotations

import pytest

from raymlops.core.config import Settings


@pytest.fixture(scope="session")
def two_nodes(tmp_path_factory):
    import ray
    from ray.cluster_utils import Cluster

    from raymlops.core import runtime

    home = tmp_path_factory.mktemp("mn-home")
    settings = Settings.resolve(home=home, env={})
    settings.ensure_home()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "resources": {"head": 1}})
    cluster.add_node(num_cpus=1, resources={"worker": 1})
    cluster.wait_for_nodes()
    runtime.init(settings, address=cluster.address)
    yield settings, cluster
    ray.shutdown()
    cluster.shutdown()
