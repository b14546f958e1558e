from __future__ import annotations

import threading

import pytest

from raymlops.core.errors import InvalidInputError, StoreUnavailableError, TypeMismatchError
from raymlops.metadata import Artifact, Context, Execution, MetadataStore


def _counts(store: MetadataStore) -> tuple[int, int, int]:
    return (len(store.get_artifacts()), len(store.get_executions()), len(store.get_events(execution_id=None)))


def test_put_execution_writes_execution_artifacts_events_and_contexts(store):
    raw = Artifact(type="Dataset", uri="file:///raw.csv", sha256="a" * 64, properties={"rows": 10})
    model = Artifact(type="Model", uri="file:///m.pkl")
    exp = Context(type="Experiment", name="exp1")
    ex = store.put_execution(
        Execution(type="Train", state="COMPLETE", properties={"lr": 0.1}),
        inputs={"train": raw},
        outputs={"model": model},
        contexts=[exp],
    )
    assert ex.id is not None and raw.id is not None and model.id is not None and exp.id is not None
    events = store.get_events(execution_id=ex.id)
    assert {(e.artifact_id, e.type, e.path) for e in events} == {(raw.id, "INPUT", "train"), (model.id, "OUTPUT", "model")}
    assert [e.id for e in store.get_executions(context_id=exp.id)] == [ex.id]
    assert {a.id for a in store.get_artifacts(context_id=exp.id)} == {raw.id, model.id}
    got = store.get_artifact(raw.id)
    assert (got.type, got.uri, got.sha256, got.properties) == ("Dataset", "file:///raw.csv", "a" * 64, {"rows": 10})
    assert [c.name for c in store.get_contexts_of(execution_id=ex.id)] == ["exp1"]


def test_put_execution_is_one_transaction(store):
    store.put_type("artifact", "Dataset", {"rows": "INT"})
    before = _counts(store)
    good = Artifact(type="Dataset", uri="file:///ok", properties={"rows": 1})
    bad = Artifact(type="Dataset", uri="file:///bad", properties={"rows": "many"})
    with pytest.raises(TypeMismatchError, match="'rows'"):
        store.put_execution(Execution(type="Step"), outputs=[good, bad], contexts=[Context(type="Experiment", name="x")])
    assert _counts(store) == before
    assert store.get_contexts(type="Experiment") == []


def test_typed_properties_are_checked_and_fields_added(store):
    store.put_type("execution", "Train", {"lr": "DOUBLE"})
    ex = store.put_execution(Execution(type="Train", properties={"lr": 1, "epochs": 3}))
    assert store.get_execution(ex.id).properties == {"lr": 1.0, "epochs": 3}
    assert store.get_type("execution", "Train") == {"lr": "DOUBLE", "epochs": "INT"}
    with pytest.raises(TypeMismatchError):
        store.put_execution(Execution(type="Train", properties={"epochs": "three"}))
    ok = store.put_execution(Execution(type="Train", custom_properties={"epochs": "anything goes"}))
    assert store.get_execution(ok.id).custom_properties == {"epochs": "anything goes"}


def test_invalid_states_are_refused():
    with pytest.raises(InvalidInputError, match="execution state"):
        Execution(type="T", state="DONE")
    with pytest.raises(InvalidInputError, match="artifact state"):
        Artifact(type="T", state="GONE")


def test_updating_an_execution_keeps_its_id_and_adds_events(store):
    ex = store.put_execution(Execution(type="Step", state="RUNNING"), inputs=[Artifact(type="D", uri="in")])
    ex.state = "COMPLETE"
    store.put_execution(ex, outputs=[Artifact(type="D", uri="out")])
    assert store.get_execution(ex.id).state == "COMPLETE"
    assert sorted(e.type for e in store.get_events(execution_id=ex.id)) == ["INPUT", "OUTPUT"]
    assert store.count_executions() == 1


def test_a_step_that_raises_is_failed_with_its_error(store):
    with pytest.raises(ZeroDivisionError):
        with store.run_execution("Step", name="boom") as step:
            step.add_output(Artifact(type="D", uri="partial"))
            1 / 0  # noqa: B018
    ex = store.get_executions(type="Step")[0]
    assert ex.state == "FAILED"
    assert ex.error == "ZeroDivisionError: division by zero"


def test_a_step_that_completes_records_its_outputs(store):
    src = Artifact(type="D", uri="src")
    with store.run_execution("Step", inputs=[src]) as step:
        out = step.add_output(Artifact(type="D", uri="dst"), role="out")
    ex = store.get_execution(step.execution.id)
    assert ex.state == "COMPLETE"
    g = store.lineage(("artifact", out.id), direction="up", hops=2)
    assert set(g.nodes) == {f"artifact:{out.id}", f"execution:{ex.id}", f"artifact:{src.id}"}


def test_contexts_are_found_by_type_and_name(store):
    a = store.put_context(Context(type="Experiment", name="e"))
    b = store.put_context(Context(type="Experiment", name="e"))
    c = store.put_context(Context(type="PipelineRun", name="e"))
    assert a.id == b.id != c.id


def test_concurrent_threads_lose_nothing(store):
    def work(i: int) -> None:
        for j in range(25):
            store.put_execution(
                Execution(type="W", name=f"{i}-{j}", state="COMPLETE"),
                outputs=[Artifact(type="D", uri=f"{i}-{j}")],
                contexts=[Context(type="Experiment", name="shared")],
            )

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = [e.name for e in store.get_executions(type="W")]
    assert len(names) == 100 == len(set(names))
    assert len(store.get_contexts(type="Experiment")) == 1


def test_unreachable_database_is_a_clear_error(tmp_path):
    with pytest.raises(StoreUnavailableError, match="does not exist"):
        MetadataStore(f"sqlite:///{tmp_path}/missing/dir/metadata.db")
    with pytest.raises(StoreUnavailableError, match="not a SQLAlchemy URL"):
        MetadataStore("definitely not a url")
