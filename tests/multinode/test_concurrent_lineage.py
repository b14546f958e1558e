"""1,000 executions written concurrently by tasks on two nodes into the default SQLite store."""

from __future__ import annotations

import pytest
import ray

from raymlops.metadata import connect


@ray.remote(num_cpus=0.1)
def _write(task: int, n: int) -> tuple[str, list[int]]:
    from raymlops.metadata import Artifact, Context, Execution
    from raymlops.metadata import connect as worker_connect

    store = worker_connect()
    ids = []
    for i in range(n):
        ex = store.put_execution(
            Execution(type="Load", name=f"t{task}-{i}", state="COMPLETE"),
            inputs=[Artifact(type="Shard", uri=f"in/{task}/{i}")],
            outputs=[Artifact(type="Shard", uri=f"out/{task}/{i}")],
            contexts=[Context(type="PipelineRun", name="multinode")],
        )
        ids.append(ex.id)
    return ray.get_runtime_context().get_node_id(), ids


@ray.remote(num_cpus=0.1, resources={"worker": 0.01})
def _fail_on_worker_node() -> None:
    from raymlops.metadata import connect as worker_connect

    with worker_connect().run_execution("Load", name="worker-node-failure"):
        raise OSError("disk full on the worker node")


def test_1000_executions_from_8_tasks_on_2_nodes_none_lost_none_duplicated(two_nodes):
    settings, cluster = two_nodes
    tasks = []
    for t in range(8):
        where = {"head": 0.01} if t % 2 == 0 else {"worker": 0.01}
        tasks.append(_write.options(resources=where).remote(t, 125))
    results = ray.get(tasks)
    assert len({node for node, _ in results}) == 2
    ids = [i for _, batch in results for i in batch]
    assert len(ids) == 1000 == len(set(ids))

    store = connect(settings)
    ctx = store.get_context("PipelineRun", "multinode")
    rows = store.get_executions(type="Load", context_id=ctx.id)
    names = [e.name for e in rows]
    assert len(names) == 1000 == len(set(names))
    assert set(names) == {f"t{t}-{i}" for t in range(8) for i in range(125)}
    assert len(store.get_artifacts(type="Shard")) == 2000
    assert all(len(store.get_events(execution_id=e.id)) == 2 for e in rows[:50])


def test_a_step_raising_on_the_worker_node_is_failed_with_its_message(two_nodes):
    settings, _ = two_nodes
    with pytest.raises(OSError, match="disk full"):
        ray.get(_fail_on_worker_node.remote())
    ex = [e for e in connect(settings).get_executions(type="Load") if e.name == "worker-node-failure"][0]
    assert ex.state == "FAILED" and ex.error == "OSError: disk full on the worker node"
