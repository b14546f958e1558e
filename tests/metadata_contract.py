"""The metadata store's API, as one suite every backend must pass.

Imported by ``tests/unit/test_metadata_api_sql.py`` (the SQL store) and
``tests/cluster/test_metadata_api_remote.py`` (the store actor's proxy); each provides an
``api_store`` fixture. Only :class:`~raymlops.metadata.MetadataAPI` methods are used.
"""

from __future__ import annotations

import pytest

from raymlops.core.errors import InvalidInputError, NotFoundError, TypeMismatchError
from raymlops.metadata import Artifact, Context, Execution, MetadataAPI
from raymlops.registry import ModelVersions
from raymlops.tracking import MetricStore


def _uid(request) -> str:
    return request.node.name.replace("[", "-").replace("]", "")


def test_the_store_implements_every_method_of_the_api(api_store):
    assert isinstance(api_store, MetadataAPI)
    abstract = {n for n in dir(MetadataAPI) if getattr(getattr(MetadataAPI, n), "__isabstractmethod__", False)}
    assert abstract >= {"put_type", "get_artifacts", "lineage", "extension"}
    assert not (abstract & set(type(api_store).__abstractmethods__))


def test_put_execution_sets_ids_and_records_events_and_contexts(api_store, request):
    uid = _uid(request)
    raw = Artifact(type="CDataset", uri=f"file:///{uid}/raw.csv", sha256="a" * 64, properties={"rows": 10})
    model = Artifact(type="CModel", uri=f"file:///{uid}/m.pkl")
    ex = api_store.put_execution(
        Execution(type="CTrain", state="COMPLETE", properties={"lr": 0.1}),
        inputs={"train": raw},
        outputs={"model": model},
        contexts=[Context(type="CExperiment", name=uid)],
    )
    assert None not in (ex.id, raw.id, model.id)
    events = api_store.get_events(execution_id=ex.id)
    assert {(e.artifact_id, e.type, e.path) for e in events} == {(raw.id, "INPUT", "train"), (model.id, "OUTPUT", "model")}
    ctx = api_store.get_context("CExperiment", uid)
    assert [e.id for e in api_store.get_executions(context_id=ctx.id)] == [ex.id]
    assert {a.id for a in api_store.get_artifacts(context_id=ctx.id)} == {raw.id, model.id}
    got = api_store.get_artifact(raw.id)
    assert (got.type, got.uri, got.sha256, got.properties) == ("CDataset", raw.uri, "a" * 64, {"rows": 10})
    assert [c.name for c in api_store.get_contexts_of(execution_id=ex.id)] == [uid]
    assert [c.name for c in api_store.get_contexts_of(artifact_id=model.id)] == [uid]
    assert api_store.get_executions(ids=iter([ex.id]))[0].properties == {"lr": 0.1}


def test_types_are_declared_checked_and_read(api_store, request):
    name = f"CTyped{abs(hash(_uid(request))) % 10_000}"
    api_store.put_type("execution", name, {"lr": "DOUBLE"})
    assert api_store.get_type("execution", name) == {"lr": "DOUBLE"}
    assert api_store.get_type("execution", name + "Missing") is None
    with pytest.raises(TypeMismatchError, match="'lr'"):
        api_store.put_execution(Execution(type=name, properties={"lr": "fast"}))
    with pytest.raises(InvalidInputError, match="type kind"):
        api_store.put_type("table", name)


def test_run_execution_records_complete_and_failed_steps(api_store, request):
    uid = _uid(request)
    with api_store.run_execution("CStep", name=f"{uid}-ok") as step:
        out = step.add_output(Artifact(type="CDataset", uri=f"file:///{uid}/out"), role="out")
    assert api_store.get_execution(step.execution.id).state == "COMPLETE" and out.id is not None
    with pytest.raises(ValueError, match="bad"):
        with api_store.run_execution("CStep", name=f"{uid}-bad") as failed:
            raise ValueError("bad input")
    ex = api_store.get_execution(failed.execution.id)
    assert (ex.state, ex.error) == ("FAILED", "ValueError: bad input")
    assert api_store.count_executions(type="CStep") >= 2


def test_put_artifact_updates_and_put_context_finds(api_store, request):
    uid = _uid(request)
    art = api_store.put_artifact(Artifact(type="CDataset", uri=f"file:///{uid}", state="PENDING"))
    assert art.id is not None
    art.state = "LIVE"
    api_store.put_artifact(art, contexts=[Context(type="CGroup", name=uid)])
    assert api_store.get_artifact(art.id).state == "LIVE"
    assert [a.id for a in api_store.get_artifacts(uri=f"file:///{uid}")] == [art.id]
    first = api_store.put_context(Context(type="CGroup", name=uid))
    assert first.id == api_store.get_contexts(type="CGroup", name=uid)[0].id
    with pytest.raises(NotFoundError):
        api_store.get_artifact(10**9)
    with pytest.raises(NotFoundError):
        api_store.get_execution(10**9)


def test_lineage_walks_up_down_and_both(api_store, request):
    uid = _uid(request)
    raw = Artifact(type="CDataset", uri=f"file:///{uid}/raw")
    mid = Artifact(type="CDataset", uri=f"file:///{uid}/mid")
    last = Artifact(type="CModel", uri=f"file:///{uid}/model")
    api_store.put_execution(Execution(type="CClean", state="COMPLETE"), inputs=[raw], outputs=[mid])
    api_store.put_execution(Execution(type="CTrain", state="COMPLETE"), inputs=[mid], outputs=[last])
    up = api_store.lineage(("artifact", last.id), direction="up", hops=4)
    assert {n["uri"] for n in up.nodes.values() if n["kind"] == "artifact"} == {raw.uri, mid.uri, last.uri}
    down = api_store.lineage(("artifact", raw.id), direction="down", hops=2)
    assert {n["uri"] for n in down.nodes.values() if n["kind"] == "artifact"} == {raw.uri, mid.uri}
    both = api_store.lineage(("artifact", mid.id), direction="both", hops=2)
    assert {n["uri"] for n in both.nodes.values() if n["kind"] == "artifact"} == {raw.uri, mid.uri, last.uri}
    assert len(both.edges) == 4


def test_extensions_keep_their_tables_on_the_same_store(api_store, request):
    uid = _uid(request)
    run = api_store.put_execution(Execution(type="CRun", name=uid))
    metrics = api_store.extension(MetricStore)
    metrics.log_metrics(run.id, [("loss", 1.0, 0, 0.0), ("loss", 0.25, 1, 1.0)])
    assert [m["value"] for m in metrics.get_metric_history(run.id, "loss")] == [1.0, 0.25]
    assert metrics.latest_metrics([run.id]) == {run.id: {"loss": 0.25}}
    versions = api_store.extension(ModelVersions)
    name = f"c-{abs(hash(uid)) % 10**6}"
    rec = versions.create_model_version(
        name=name, artifact=Artifact(type="Model", uri=f"file:///{uid}/m", sha256="b" * 64), signature={"inputs": []}
    )
    assert (rec["version"], versions.latest_version(name)) == (1, 1)
    events = api_store.get_events(artifact_id=rec["artifact_id"])
    assert [e.type for e in events] == ["OUTPUT"]
