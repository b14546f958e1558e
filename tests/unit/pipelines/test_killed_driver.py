"""Drivers SIGKILLed mid-run: the next run executes only unfinished steps, and nothing is
left half-recorded, duplicated or orphaned.

Each test starts a driver in a subprocess (threads run the steps, as Ray tasks would in
the driver's embedded Ray) and kills it with SIGKILL at one point: while a step runs,
after a step's outputs are moved into place but before their transaction, after the
transaction but before the next step starts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from raymlops.metadata import MetadataStore
from raymlops.pipelines.cache import STEP_EXECUTION
from raymlops.pipelines.loading import load_pipeline
from raymlops.pipelines.run_state import RUN_EXECUTION
from raymlops.pipelines.scheduler import LocalBackend, drive
from tests.conftest import REPO

PIPE = '''
import json, os, time
from raymlops.pipelines import Pipeline, step

@step(outputs=["a"], deterministic=DET)
def first(ctx, *, n: int = 3):
    (ctx.output("a") / "a.json").write_text(json.dumps(list(range(n)) + ([time.time()] if not DET else [])))

@step(inputs=["a"], outputs=["b"])
def second(ctx, a):
    marker = os.environ.get("SLOW_MARKER")
    if marker:
        open(marker, "w").close()
        time.sleep(60)
    (ctx.output("b") / "b.json").write_text(json.dumps(sum(a.read_json("a.json")[:3])))

@step(inputs=["b"], outputs=["c"])
def third(ctx, b):
    (ctx.output("c") / "c.txt").write_text(str(b.read_json("b.json") * 2))

pipeline = Pipeline("killme", [first, second, third])
'''

DRIVER = '''
import os, signal, sys
from raymlops.metadata import MetadataStore
from raymlops.pipelines.loading import load_pipeline
from raymlops.pipelines.run_state import RunState
from raymlops.pipelines.scheduler import LocalBackend, drive

pipe_file, home, fault, step_name = sys.argv[1:5]
orig_move, orig_record = RunState._move_outputs, RunState._record_complete

def record(self, step, *a, **k):
    if fault == "before_commit" and step.name == step_name:
        os.kill(os.getpid(), signal.SIGKILL)  # outputs moved into place, transaction not written
    out = orig_record(self, step, *a, **k)
    if fault == "after_commit" and step.name == step_name:
        os.kill(os.getpid(), signal.SIGKILL)  # step recorded, next step not started
    return out

RunState._record_complete = record
p = load_pipeline(pipe_file, {})[0]
store = MetadataStore(f"sqlite:///{home}/metadata.db")
r = drive(p, {}, store=store, home=home, backend=LocalBackend(), run_id="killed-run")
print(r.state)
'''


@pytest.fixture
def setup(tmp_path):
    def make(deterministic: bool = True):
        pipe = tmp_path / "pipe.py"
        pipe.write_text(textwrap.dedent(PIPE).replace("DET", str(deterministic)))
        (tmp_path / "driver.py").write_text(textwrap.dedent(DRIVER))
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        return pipe, home

    return make


def _driver(tmp_path, pipe, home, fault: str, step: str, env: dict | None = None) -> subprocess.Popen:
    e = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.Popen([sys.executable, str(tmp_path / "driver.py"), str(pipe), str(home), fault, step], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _rerun(pipe, home, **kw):
    store = MetadataStore(f"sqlite:///{home}/metadata.db")
    try:
        return drive(load_pipeline(str(pipe), {})[0], {}, store=store, home=str(home), backend=LocalBackend(), **kw)
    finally:
        store.close()


def _audit(home) -> None:
    """No duplicate artifacts, no orphan objects, no staging left, nothing RUNNING."""
    store = MetadataStore(f"sqlite:///{home}/metadata.db")
    try:
        arts = [a for a in store.get_artifacts() if a.uri.startswith(f"file://{home}/pipelines/objects/")]
        uris = [a.uri for a in arts]
        assert len(uris) == len(set(uris)), f"duplicate artifacts: {uris}"
        objects = {os.path.join(d, s) for d in (home / "pipelines" / "objects").glob("*") for s in os.listdir(d)}
        assert objects == {u[len("file://") :] for u in uris}, "orphan objects or records without objects"
        tmp = home / "pipelines" / "tmp"
        assert not tmp.exists() or not any(tmp.iterdir()), f"staging left: {list(tmp.iterdir())}"
        for a in arts:  # every artifact is the output of a finished execution
            producers = [e.execution_id for e in store.get_events(artifact_id=a.id) if e.type == "OUTPUT"]
            assert any(store.get_execution(x).state == "COMPLETE" for x in producers), a
        assert not store.get_executions(type=STEP_EXECUTION, state="RUNNING")
        assert not store.get_executions(type=RUN_EXECUTION, state="RUNNING")
    finally:
        store.close()


def _killed(proc: subprocess.Popen) -> None:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, out, err[-3000:])


def test_killed_while_a_step_runs(setup, tmp_path):
    pipe, home = setup()
    marker = tmp_path / "second-started"
    proc = _driver(tmp_path, pipe, home, "none", "-", {"SLOW_MARKER": str(marker)})
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert marker.exists()
    proc.send_signal(signal.SIGKILL)
    _killed(proc)
    r = _rerun(pipe, home)
    assert {s.name: s.status for s in r.steps} == {"first": "cached", "second": "executed", "third": "executed"}
    store = MetadataStore(f"sqlite:///{home}/metadata.db")
    killed = [e for e in store.get_executions(type=RUN_EXECUTION) if e.properties["run"] == "killed-run"][0]
    assert killed.state == "FAILED" and "driver lost" in killed.error
    interrupted = [e for e in store.get_executions(type=STEP_EXECUTION) if e.properties.get("status") == "interrupted"]
    assert [e.name for e in interrupted] == ["second"]
    store.close()
    _audit(home)


@pytest.mark.parametrize("fault", ["before_commit", "after_commit"])
@pytest.mark.parametrize("step", ["first", "second"])
def test_killed_around_publishing(setup, tmp_path, fault, step):
    pipe, home = setup()
    _killed(_driver(tmp_path, pipe, home, fault, step))
    r = _rerun(pipe, home)
    order = ["first", "second", "third"]
    finished = order[: order.index(step) + (1 if fault == "after_commit" else 0)]
    assert {s.name: s.status for s in r.steps} == {n: ("cached" if n in finished else "executed") for n in order}
    assert json.loads(open(os.path.join(r.step("third").outputs[0]["uri"][7:], "c.txt")).read()) == 6
    _audit(home)


def test_resume_keeps_finished_non_deterministic_steps(setup, tmp_path):
    pipe, home = setup(deterministic=False)
    _killed(_driver(tmp_path, pipe, home, "after_commit", "first"))
    store = MetadataStore(f"sqlite:///{home}/metadata.db")
    first = [e for e in store.get_executions(type=STEP_EXECUTION) if e.name == "first" and e.state == "COMPLETE"]
    store.close()
    r = _rerun(pipe, home, resume="killed-run")
    assert r.run == "killed-run" and r.state == "COMPLETE"
    assert {s.name: s.status for s in r.steps} == {"first": "executed", "second": "executed", "third": "executed"}
    assert r.step("first").execution_id == first[0].id and "before the resume" in r.step("first").reason
    _audit(home)


def test_orphan_object_of_a_killed_publish_is_swept(setup, tmp_path):
    pipe, home = setup(deterministic=False)  # the rerun writes different bytes: the old object is an orphan
    _killed(_driver(tmp_path, pipe, home, "before_commit", "first"))
    objects = list((home / "pipelines" / "objects").glob("*/*"))
    assert len(objects) == 1  # moved into place, never recorded
    r = _rerun(pipe, home)
    assert r.state == "COMPLETE" and not objects[0].exists()
    _audit(home)
