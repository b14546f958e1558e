"""Ray tasks and actors record lineage and register models through the store actor."""

from __future__ import annotations

import pytest
import ray

from raymlops.metadata import connect
from raymlops.registry import ModelRegistry


@ray.remote(num_cpus=0.25)
def _record(i: int) -> tuple[str, int]:
    from raymlops.metadata import Artifact, Context, Execution
    from raymlops.metadata import connect as connect_in_worker

    store = connect_in_worker()
    ex = store.put_execution(
        Execution(type="TaskStep", name=f"step-{i}", state="COMPLETE"),
        inputs=[Artifact(type="D", uri=f"in-{i}")],
        outputs=[Artifact(type="D", uri=f"out-{i}")],
        contexts=[Context(type="PipelineRun", name="remote-test")],
    )
    return type(store).__name__, ex.id


@ray.remote(num_cpus=0.25)
def _failing_step() -> None:
    from raymlops.metadata import connect as connect_in_worker

    with connect_in_worker().run_execution("TaskStep", name="fails"):
        raise ValueError("bad shard 7")


@ray.remote(num_cpus=0.25)
def _register_and_load() -> tuple[int, dict]:
    reg = ModelRegistry.connect()
    rec = reg.register({"weights": [4, 2]}, "remote-model")
    return rec["version"], reg.load(f"remote-model@{rec['version']}")


def test_tasks_record_executions_through_the_store_actor(ray_session):
    results = ray.get([_record.remote(i) for i in range(6)])
    assert {kind for kind, _ in results} == {"RemoteMetadataStore"}
    store = connect(ray_session)
    ctx = store.get_context("PipelineRun", "remote-test")
    names = sorted(e.name for e in store.get_executions(context_id=ctx.id))
    assert names == [f"step-{i}" for i in range(6)]
    g = store.lineage(("execution", results[0][1]), direction="both", hops=1)
    assert len(g.nodes) == 3


def test_a_failing_task_step_is_recorded_failed(ray_session):
    with pytest.raises(ValueError, match="bad shard 7"):
        ray.get(_failing_step.remote())
    ex = [e for e in connect(ray_session).get_executions(type="TaskStep") if e.name == "fails"][0]
    assert ex.state == "FAILED" and ex.error == "ValueError: bad shard 7"


def test_a_task_registers_and_loads_a_model(ray_session):
    version, loaded = ray.get(_register_and_load.remote())
    assert loaded == {"weights": [4, 2]}
    rec = ModelRegistry.connect(ray_session).get(f"remote-model@{version}")
    assert rec["version"] == version
