from __future__ import annotations

import random
import sys

import numpy as np
import pytest

from raymlops.metadata import Artifact, Execution
from raymlops.tracking import MetricStore, list_runs, start_run


def test_every_run_records_code_environment_seed_and_input_hashes(store):
    data = Artifact(type="Dataset", uri="file:///d.csv", sha256="b" * 64)
    with start_run("exp", params={"C": 0.5}, seed=123, inputs=[data], store=store) as run:
        first = random.random(), np.random.rand()
    with start_run("exp", seed=123, store=store):
        second = random.random(), np.random.rand()
    assert first == second  # the seed is applied, so reruns reproduce
    props = store.get_execution(run.id).properties
    assert props["seed"] == 123
    assert props["params"] == {"C": 0.5}
    assert props["git"]["commit"] and len(props["git"]["commit"]) == 40  # tests run inside the repo
    assert isinstance(props["git"]["dirty"], bool)
    assert props["env"]["python"] == sys.version.split()[0]
    assert props["env"]["packages"]["scikit-learn"]
    assert props["inputs"] == [{"uri": "file:///d.csv", "sha256": "b" * 64, "type": "Dataset"}]
    assert [e.type for e in store.get_events(execution_id=run.id)] == ["INPUT"]


def test_a_run_without_a_seed_gets_one_recorded(store):
    with start_run("exp", store=store) as run:
        pass
    assert isinstance(store.get_execution(run.id).properties["seed"], int)


def test_metrics_keep_their_step_history_and_runs_list_shows_latest(store):
    with start_run("exp", store=store) as run:
        for loss in (0.9, 0.6, 0.4):
            run.log_metric("loss", loss)
        run.log_params({"depth": 3})
        run.set_tag("team", "fraud")
        run.log_artifact(Artifact(type="Model", uri="file:///m"))
    hist = run.metric_history("loss")
    assert [(m["step"], m["value"]) for m in hist] == [(0, 0.9), (1, 0.6), (2, 0.4)]
    rows = list_runs(store, experiment="exp")
    assert rows[0]["metrics"] == {"loss": 0.4}
    assert rows[0]["params"] == {"depth": 3}
    assert rows[0]["tags"] == {"team": "fraud"}
    assert rows[0]["state"] == "COMPLETE"


def test_a_run_that_raises_is_failed(store):
    with pytest.raises(RuntimeError):
        with start_run("exp", store=store) as run:
            raise RuntimeError("diverged")
    ex = store.get_execution(run.id)
    assert (ex.state, ex.error) == ("FAILED", "RuntimeError: diverged")


def test_runs_are_filtered_by_experiment(store):
    for exp in ("a", "b", "a"):
        with start_run(exp, store=store):
            pass
    assert [r["experiment"] for r in list_runs(store, experiment="a")] == ["a", "a"]
    assert list_runs(store, experiment="missing") == []


def test_metric_history_is_kept_in_order(store):
    ex = store.put_execution(Execution(type="Run"))
    metrics = store.extension(MetricStore)
    metrics.log_metrics(ex.id, [("loss", 1.0, 0, 0.0), ("loss", 0.5, 1, 1.0), ("acc", 0.7, 1, 1.0)])
    assert [m["value"] for m in metrics.get_metric_history(ex.id, "loss")] == [1.0, 0.5]
    assert metrics.latest_metrics([ex.id]) == {ex.id: {"loss": 0.5, "acc": 0.7}}
    assert store.extension(MetricStore) is metrics
