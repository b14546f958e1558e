"""Steps as Ray tasks: independent steps overlap, each with its own resources; failures skip descendants."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap


from raymlops.pipelines import Pipeline, run_pipeline, step
from tests.conftest import PYTHON, REPO, cli_env

PIPE = '''
import os, time
from raymlops.pipelines import Pipeline, step

def meet(rendezvous, me, other):
    """Say I am running, then wait (up to 60 s) until the other step says so too."""
    if not rendezvous:
        return None
    open(os.path.join(rendezvous, me), "w").close()
    deadline = time.time() + 60
    while not os.path.exists(os.path.join(rendezvous, other)) and time.time() < deadline:
        time.sleep(0.05)
    return os.path.exists(os.path.join(rendezvous, other))

@step(outputs=["out"], resources={"num_cpus": 0.5}, deterministic=False)
def left(ctx, *, rendezvous: str = ""):
    met = meet(rendezvous, "left", "right")
    (ctx.output("out") / "x").write_text("l")
    return {"met": met, "pid": os.getpid()}

@step(outputs=["out2"], resources={"num_cpus": 0.5}, deterministic=False)
def right(ctx, *, rendezvous: str = ""):
    met = meet(rendezvous, "right", "left")
    (ctx.output("out2") / "x").write_text("r")
    return {"met": met, "pid": os.getpid()}

@step(inputs=["out", "out2"], outputs=["both"], resources={"num_cpus": 0.25})
def join(ctx, out, out2):
    (ctx.output("both") / "x").write_text(open(out / "x").read() + open(out2 / "x").read())

pipeline = Pipeline("parallel", [left, right, join])
'''


def test_independent_steps_run_at_once_as_ray_tasks(ray_session, tmp_path):
    f = tmp_path / "par.py"
    f.write_text(textwrap.dedent(PIPE))
    meet = tmp_path / "meet"
    meet.mkdir()
    r = run_pipeline(f"{f}:pipeline", {"rendezvous": str(meet)}, settings=ray_session)
    assert r.state == "COMPLETE"
    left, right = r.step("left").result, r.step("right").result
    assert left["pid"] != right["pid"] and left["pid"] != os.getpid()  # separate worker processes
    assert left["met"] and right["met"]  # each saw the other running: they ran at the same time
    assert open(os.path.join(r.step("join").outputs[0]["uri"][7:], "x")).read() == "lr"


def test_a_failing_step_stops_its_descendants_only(ray_session):
    @step(outputs=["a"], resources={"num_cpus": 0.25})
    def ok(ctx):
        (ctx.output("a") / "a").write_text("a")

    @step(outputs=["b"], resources={"num_cpus": 0.25})
    def bad(ctx):
        raise ValueError("the source is empty")

    @step(inputs=["b"], outputs=["c"], resources={"num_cpus": 0.25})
    def after(ctx, b):
        (ctx.output("c") / "c").write_text("c")

    r = run_pipeline(Pipeline("failing", [ok, bad, after]), settings=ray_session)
    assert r.state == "FAILED"
    assert {s.name: s.status for s in r.steps} == {"ok": "executed", "bad": "failed", "after": "skipped"}
    assert "ValueError: the source is empty" in r.step("bad").error
    assert r.step("after").reason.startswith("upstream step 'bad' failed: ValueError: the source is empty")


def test_cli_runs_a_pipeline_file_on_the_cluster_and_reports_json(ray_address, ray_session, tmp_path):
    f = tmp_path / "par.py"
    f.write_text(textwrap.dedent(PIPE))
    env = cli_env(ray_session.home)
    run = subprocess.run([PYTHON, "-m", "raymlops", "pipeline", "run", str(f), "--address", ray_address, "--json"], env=env, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert run.returncode == 0, run.stderr[-3000:]
    doc = json.loads(run.stdout)
    assert {"run", "pipeline", "state", "cause", "steps"} <= set(doc) and doc["state"] == "COMPLETE"
    assert [s["name"] for s in doc["steps"]] == ["left", "right", "join"]
    assert set(doc["steps"][0]) >= {"name", "status", "execution_id", "seconds", "cache_key", "outputs"}
    again = json.loads(subprocess.run([PYTHON, "-m", "raymlops", "pipeline", "run", str(f), "--address", ray_address, "--json"], env=env, capture_output=True, text=True, timeout=300, cwd=REPO).stdout)
    assert {s["name"]: s["status"] for s in again["steps"]} == {"left": "executed", "right": "executed", "join": "cached"}
    status = subprocess.run([PYTHON, "-m", "raymlops", "pipeline", "status", again["run"], "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(status.stdout)["state"] == "COMPLETE"
    listed = json.loads(subprocess.run([PYTHON, "-m", "raymlops", "pipeline", "list", "--json"], env=env, capture_output=True, text=True, timeout=60).stdout)
    assert listed[0]["run"] == again["run"]
