"""The decay chapter of ``raymlops demo``: drift -> retrain -> canary -> promote, with lineage.

A model trained by the built-in ``retrain`` pipeline serves traffic; the world changes
(the traffic shifts and a new day of labelled data lands); the drift monitor's alert
fires; the loop's trigger runs ``retrain`` (the old day's ingest is a cache hit),
evaluates the candidate against the champion on a trusted evaluation set, canaries it
with gates and promotes it. The lineage from the alert to the new version's rollout
decisions is printed.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.config import Settings

__all__ = ["chapter"]

MODEL = "decay"


def _day(n: int, mu: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(mu, 1, n), rng.normal(mu, 1, n)
    return pd.DataFrame({"a": a, "b": b, "y": (np.sin(1.5 * a) + 0.3 * (b - mu) > 0).astype(int)})


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chapter(settings: Settings, say: Callable[[str], None] = print, *, shift: float = 2.5, timeout_s: float = 300.0) -> dict[str, Any]:
    """Run the chapter on the current (embedded) Ray; returns its numbers."""
    import ray
    import requests
    from ray import serve

    from raymlops.cli.lineage import render
    from raymlops.core import runtime
    from raymlops.metadata import connect
    from raymlops.monitoring.actor import get_monitor
    from raymlops.pipelines import run_pipeline
    from raymlops.pipelines.loop import loop_spec, loop_status, runs_of
    from raymlops.pipelines.trigger_actor import get_trigger_actor
    from raymlops.serving.app import deploy
    from raymlops.serving.controller import get_controller

    say("\n== Decay: drift -> retrain -> canary -> promote (pipelines on Ray, the closed loop)")
    settings.ensure_home()
    runtime.init(settings)
    store = connect(settings)
    data = settings.home / "decay" / "data"
    data.mkdir(parents=True, exist_ok=True)
    _day(3000, 0.0, 1).to_csv(data / "day1.csv", index=False)
    golden = settings.home / "decay" / "golden.csv"
    _day(400, shift, 9).to_csv(golden, index=False)
    params = {"data": str(data), "target": "y", "name": MODEL}
    v1 = run_pipeline("retrain", params, settings=settings)
    say(f"retrain (the built-in pipeline) trained {MODEL}@{store.get_aliases(MODEL).get('champion')}: " + ", ".join(f"{s.name} {s.status}" for s in v1.steps))
    url = deploy(settings, port=_port(), gate_interval_s=1.0)
    ctl = get_controller(settings)
    ray.get(ctl.serve_model.remote(MODEL, 1, None, 1, {"window_s": 4.0, "flush_s": 0.5, "min_rows": 100, "grace_s": 1.0}))
    deadline = time.time() + 30
    while MODEL not in requests.get(f"{url}/v1/healthz", timeout=10).json().get("models", []) and time.time() < deadline:
        time.sleep(0.2)
    mu = {"v": 0.0}
    codes: list[int] = []
    stop = threading.Event()

    def traffic(seed: int) -> None:
        rng = np.random.default_rng(seed)
        s = requests.Session()
        while not stop.is_set():
            row = {"a": float(rng.normal(mu["v"], 1)), "b": float(rng.normal(mu["v"], 1))}
            try:
                codes.append(s.post(f"{url}/v1/models/{MODEL}:predict", json={"instances": [row]}, headers={"x-user-id": f"u{rng.integers(500)}"}, timeout=10).status_code)
            except requests.RequestException:
                codes.append(0)
            time.sleep(0.02)

    threads = [threading.Thread(target=traffic, args=(i,), daemon=True) for i in range(2)]
    for t in threads:
        t.start()
    actor = get_trigger_actor(settings)
    try:
        time.sleep(5)
        spec = loop_spec(settings, store, MODEL, params={**params, "eval_data": str(golden), "min_samples": 20}, steps=[50, 100], bake_s=3.0, cooldown_s=600)
        ray.get(actor.add.remote(spec))
        say(f"serving {MODEL}@1 under traffic; loop enabled: a drift alert of {MODEL} runs retrain, then a canary 50% -> 100% with gates")
        shifted = time.time()
        _day(1500, shift, 2).to_csv(data / "day2.csv", index=False)
        mu["v"] = shift
        say(f"the world changes: inputs shift by +{shift} and a new day of labelled data lands in {data}")
        while store.get_aliases(MODEL).get("champion") == 1 and time.time() < shifted + timeout_s:
            time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join()
    st = loop_status(store, MODEL)
    run = runs_of(store, loop=MODEL)[0] if runs_of(store, loop=MODEL) else None
    alert_id = min((run.properties.get("cause") or {}).get("alerts") or [0]) if run else 0
    alert = store.get_execution(alert_id) if alert_id else None
    decisions = [e for e in store.get_executions(type="RolloutDecision") if e.properties.get("model") == MODEL and e.properties.get("to_version") == 2]
    start = min((e.create_time for e in decisions if e.properties.get("action") == "start"), default=None)
    if st["last_run"]:
        say(f"alert {alert_id} ({alert.properties.get('subject') if alert else '?'} drift) -> run {st['last_run']['run']}: {st['last_run']['state']}")
        for s in st["last_run"]["steps"]:
            say(f"  {s['name']:<20} {s['status']:<9} execution {s['execution_id']}")
    say(f"candidate {st['candidate']}: {st['verdict']}; push: {(st.get('push') or {}).get('reason')}")
    if alert is not None and start is not None:
        say(f"alert -> canary: {start - alert.create_time:.1f} s; {len(codes)} requests, {sum(c != 200 for c in codes)} failed; champion: {st['champion']}")
    if alert is not None:
        graph = store.lineage(("execution", alert.id), direction="down", hops=40).to_dict()
        say("lineage from the alert (raymlops lineage execution:%d --direction down):" % alert.id)
        say(render(graph, f"execution:{alert.id}"))
    ray.kill(actor)
    serve.shutdown()
    ray.kill(ctl)
    try:
        ray.kill(get_monitor(settings, MODEL, create=False))
    except ValueError:
        pass
    return {
        "champion": st["champion"], "candidate": st["candidate"], "verdict": st["verdict"], "requests": len(codes),
        "failed": sum(c != 200 for c in codes), "alert_to_canary_s": None if (alert is None or start is None) else start - alert.create_time,
        "steps": {s["name"]: s["status"] for s in (st["last_run"] or {}).get("steps", [])},
    }  # fmt: skip
