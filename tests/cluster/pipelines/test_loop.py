"""The closed loop end to end on a local Ray with Serve.

v1 (trained by ``retrain``) serves steady traffic; the traffic shifts and a new day of
labelled data lands; the drift alert fires; the loop's trigger runs ``retrain`` (the old
day's ingest is a cache hit); v2 is blessed against v1 on the trusted evaluation set,
canaried with gates and promoted; no request fails. Then a worse candidate (trained on a
day of scrambled labels) is evaluated and never pushed. The lineage runs from the alert
to v2's rollout decisions.
"""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pandas as pd
import ray
import requests
from ray import serve

from raymlops.metadata import connect
from raymlops.monitoring import get_monitor
from raymlops.pipelines import run_pipeline
from raymlops.pipelines.loop import loop_spec, loop_status, runs_of
from raymlops.pipelines.trigger_actor import get_trigger_actor
from raymlops.registry import ModelRegistry
from raymlops.serving import deploy, get_controller

NAME = "loopm"
SHIFT = 2.5


def _day(n: int, mu: float, seed: int, *, scramble: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(mu, 1, n), rng.normal(mu, 1, n)
    y = (np.sin(1.5 * a) + 0.3 * (b - mu) > 0).astype(int)
    if scramble:
        y = rng.permutation(y)
    return pd.DataFrame({"a": a, "b": b, "y": y})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(cond, timeout: float, step: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"not met within {timeout} s")


def _stop_all(settings) -> None:
    """Serve, the rollout controller, the loop's trigger actor and the model's monitor."""
    serve.shutdown()
    for get in (lambda: get_trigger_actor(settings, create=False), lambda: get_controller(settings, create=False), lambda: get_monitor(settings, NAME, create=False)):
        try:
            ray.kill(get())
        except ValueError:  # never created
            pass


def test_drift_retrains_canaries_and_promotes_and_a_worse_candidate_is_never_pushed(ray_session, tmp_path, request):
    settings = ray_session
    store = connect(settings)
    registry = ModelRegistry.connect(settings)
    data = tmp_path / "data"
    data.mkdir()
    _day(3000, 0.0, 1).to_csv(data / "day1.csv", index=False)  # a reference above 1,000 rows: stable drift tests
    golden = tmp_path / "golden.csv"
    _day(400, SHIFT, 9).to_csv(golden, index=False)
    params = {"data": str(data), "target": "y", "name": NAME}

    v1 = run_pipeline("retrain", params, settings=settings)
    assert v1.state == "COMPLETE" and registry.versions.get_aliases(NAME)["champion"] == 1, v1.to_dict()

    url = deploy(settings, port=_free_port(), gate_interval_s=1.0)
    request.addfinalizer(lambda: _stop_all(settings))  # also when an assertion fails: the next test starts its own Serve
    ctl = get_controller(settings)
    monitoring = {"window_s": 4.0, "flush_s": 0.5, "min_rows": 100, "grace_s": 1.0}
    ray.get(ctl.serve_model.remote(NAME, 1, None, 1, monitoring))
    _wait(lambda: NAME in requests.get(f"{url}/v1/healthz", timeout=10).json().get("models", []), 30, 0.2)
    mu = {"value": 0.0}
    codes: list[int] = []
    stop = threading.Event()

    def traffic(seed: int) -> None:
        rng = np.random.default_rng(seed)
        s = requests.Session()
        while not stop.is_set():
            m = mu["value"]
            row = {"a": float(rng.normal(m, 1)), "b": float(rng.normal(m, 1))}
            try:
                codes.append(s.post(f"{url}/v1/models/{NAME}:predict", json={"instances": [row]}, headers={"x-user-id": f"u{rng.integers(500)}"}, timeout=10).status_code)
            except requests.RequestException:
                codes.append(0)
            time.sleep(0.02)

    threads = [threading.Thread(target=traffic, args=(i,), daemon=True) for i in range(2)]
    for t in threads:
        t.start()
    try:
        time.sleep(5)  # steady traffic on v1
        actor = get_trigger_actor(settings)
        spec = loop_spec(settings, store, NAME, params={**params, "eval_data": str(golden)}, steps=[50, 100], bake_s=3.0, cooldown_s=600)
        ray.get(actor.add.remote({**spec, "params": {**spec["params"], "min_samples": 20}}))  # alerts so far are its baseline
        shifted_at = time.time()
        _day(1500, SHIFT, 2).to_csv(data / "day2.csv", index=False)  # the newest data lands
        mu["value"] = SHIFT  # and the traffic shifts
        _wait(lambda: registry.versions.get_aliases(NAME).get("champion") == 2, 420, 1.0)  # generous on a loaded machine; alert -> canary is bounded below
    finally:
        stop.set()
        for t in threads:
            t.join()

    assert len(codes) > 500 and codes.count(200) == len(codes), {c: codes.count(c) for c in set(codes)}
    run = runs_of(store, loop=NAME)[0]
    cause = run.properties["cause"]
    assert run.state == "COMPLETE" and cause["kind"] == "drift" and cause["loop"] == NAME
    first = store.get_execution(min(cause["alerts"]))  # the alert that started the run
    assert first.type == "DriftAlert" and first.properties["state"] == "FIRING" and first.create_time >= shifted_at
    assert first.properties["subject"] in ("dataset", "prediction", "concept")
    st = loop_status(store, NAME)
    steps = {s["name"]: s for s in st["last_run"]["steps"]}
    assert steps["ingest[day1.csv]"]["status"] == "cached" and steps["ingest[day2.csv]"]["status"] == "executed"
    assert st["candidate"] == f"{NAME}@2" and st["verdict"] == "BLESSED" and st["push"]["state"] == "PROMOTED"
    decisions = [e for e in store.get_executions(type="RolloutDecision") if e.properties.get("model") == NAME and e.properties.get("to_version") == 2]
    start = min(e.create_time for e in decisions if e.properties["action"] == "start")
    # the loop reports its alert -> canary figure from the store's own records. The issue's
    # bound on it (<= 120 s) is a performance target, measured on an idle machine by
    # benchmarks/bench_loop.py: here the test runs beside two other lanes (142 s in one CI run).
    t = st["timeline"]
    print("timeline:", t)
    assert t["alert"] == first.id and t["alert_at"] == first.create_time and t["canary_started_at"] == start
    assert t["alert_to_canary_s"] == start - first.create_time > t["pickup_s"] == run.create_time - first.create_time >= 0
    assert {"ingest[day2.csv]", "train", "evaluate", "push"} <= set(t["step_s"]) and "ingest[day1.csv]" not in t["step_s"]
    assert {"start", "advance", "promote"} <= {e.properties["action"] for e in decisions}

    # lineage: alert -> cause -> the run's steps -> v2 -> v2's rollout decisions
    v2_art = registry.get(f"{NAME}@2")["artifact_id"]
    down = store.lineage(("execution", first.id), direction="down", hops=40)
    assert f"artifact:{v2_art}" in down.nodes
    assert {f"execution:{e.id}" for e in decisions} <= set(down.nodes)
    assert any(n["type"] == "TriggerCause" for n in down.nodes.values())

    # a worse candidate: the newest day's labels are scrambled
    _day(600, SHIFT, 3, scramble=True).to_csv(data / "day3.csv", index=False)
    worse = run_pipeline("retrain", {**params, "recent": 1, "eval_data": str(golden), "min_samples": 20}, settings=settings)
    assert worse.step("evaluate").result["verdict"] == "NOT_BLESSED", worse.step("evaluate").result
    assert worse.step("push").result["state"] == "NOT_PUSHED" and not worse.step("push").result["pushed"]
    assert registry.versions.get_aliases(NAME)["champion"] == 2
    assert ray.get(ctl.status.remote(NAME))["routes"] == [{"version": 2, "percent": 100.0}]

