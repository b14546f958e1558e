"""The demo's decay chapter: drift -> retrain -> canary -> promote, with the lineage printed.

A model trained by the built-in ``retrain`` pipeline serves traffic; the world changes
(the traffic shifts and a new day of labelled data lands); the drift monitor's alert
fires; the loop's trigger runs ``retrain`` (the old day's ingest is a cache hit),
evaluates the candidate against the champion on a trusted evaluation set, canaries it
with gates and promotes it. The lineage from the alert to the new version's rollout
decisions is printed. Then a candidate trained on a day of scrambled labels is evaluated
against the new champion and never pushed.

The chapter has a model of its own (:data:`DECAY_MODEL`, two features whose relation to
the label bends as their range moves), so the story's champion and its lineage stay
what the earlier chapters made them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import ray
import requests
from ray import serve

from raymlops.core import runtime
from raymlops.core.config import Settings
from raymlops.metadata import LineageGraph, connect
from raymlops.monitoring import get_monitor
from raymlops.pipelines import run_pipeline
from raymlops.pipelines.loop import loop_spec, loop_status, runs_of
from raymlops.pipelines.trigger_actor import get_trigger_actor
from raymlops.registry import ModelRegistry
from raymlops.serving import deploy, get_controller

__all__ = ["DECAY_MODEL", "decay_chapter", "lineage_path"]

DECAY_MODEL = "decay"


def _day(n: int, mu: float, seed: int, *, scramble: bool = False) -> pd.DataFrame:
    """A day of labelled data whose inputs are centred at ``mu`` (labels shuffled with ``scramble``)."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(mu, 1, n), rng.normal(mu, 1, n)
    y = (np.sin(1.5 * a) + 0.3 * (b - mu) > 0).astype(int)
    return pd.DataFrame({"a": a, "b": b, "y": rng.permutation(y) if scramble else y})


def lineage_path(graph: LineageGraph, start: str, goal: str, readers: tuple[str, ...] | None = None) -> str:
    """The shortest way data flows from ``start`` to ``goal``, one node a line, then the
    executions that read ``goal`` (of the types ``readers``, all by default): a model's
    evaluations and rollout decisions.

    Example:
        >>> g = LineageGraph(
        ...     nodes={i: {"type": t, "name": n} for i, t, n in [("execution:1", "DriftAlert", "m@1"), ("artifact:2", "TriggerCause", "cause"),
        ...            ("execution:3", "PipelineStep", "train"), ("artifact:4", "Model", "m@2"), ("execution:5", "RolloutDecision", "m: start")]},
        ...     edges={("execution:1", "artifact:2", "OUTPUT"), ("artifact:2", "execution:3", "INPUT"), ("execution:3", "artifact:4", "OUTPUT"),
        ...            ("artifact:4", "execution:5", "INPUT")})
        >>> print(lineage_path(g, "execution:1", "artifact:4"))
        DriftAlert [execution:1] m@1
        -> TriggerCause [artifact:2] cause
        -> PipelineStep [execution:3] train
        -> Model [artifact:4] m@2
           -> RolloutDecision [execution:5] m: start
    """
    nxt: dict[str, list[str]] = {}
    for src, dst, _ in sorted(graph.edges):
        nxt.setdefault(src, []).append(dst)
    came: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier and goal not in came:  # breadth first: the first way found is a shortest one
        reached = []
        for n in frontier:
            for d in nxt.get(n, []):
                if d not in came:
                    came[d] = n
                    reached.append(d)
        frontier = reached
    if goal not in came:
        return f"(no path from {start} to {goal})"
    path = [goal]
    while came[path[-1]] is not None:
        path.append(came[path[-1]])

    def label(nid: str) -> str:
        n = graph.nodes.get(nid, {})
        return f"{n.get('type', '?')} [{nid}] {n.get('name') or n.get('uri') or ''}".rstrip()

    lines = [label(path[-1])] + [f"-> {label(n)}" for n in reversed(path[:-1])]
    then = [d for d in nxt.get(goal, []) if readers is None or graph.nodes.get(d, {}).get("type") in readers]
    then.sort(key=lambda nid: int(nid.rsplit(":", 1)[1]))  # in the order they happened (ids as numbers: "execution:99" before "execution:101")
    return "\n".join(lines + [f"   -> {label(d)}" for d in then])


def decay_chapter(
    settings: Settings,
    say: Callable[[str], None] = print,
    *,
    port: int = 8000,
    keep_serving: bool = False,
    shift: float = 2.5,
    timeout_s: float = 600.0,
) -> dict[str, Any]:
    """Run the chapter on the current Ray (Serve on ``port``); returns its numbers.

    Args:
        settings: raymlops settings.
        say: where the lines a reader follows go.
        port: the HTTP port of Serve (the one the story's serving chapter used, if any:
            a running Serve keeps its port).
        keep_serving: leave the model served at the end (the trigger actor stops anyway).
        shift: how far the inputs move.
        timeout_s: how long to wait for the loop to move ``champion``.
    """
    model = DECAY_MODEL
    settings.ensure_home()
    runtime.init(settings)
    store = connect(settings)
    registry = ModelRegistry.connect(settings)
    aliases = registry.versions.get_aliases
    data = settings.home / "decay" / "data"
    data.mkdir(parents=True, exist_ok=True)
    _day(3000, 0.0, 1).to_csv(data / "day1.csv", index=False)
    golden = settings.home / "decay" / "golden.csv"
    _day(400, shift, 9).to_csv(golden, index=False)
    params = {"data": str(data), "target": "y", "name": model}
    v1 = run_pipeline("retrain", params, settings=settings)
    say(f"retrain (the built-in pipeline) trained {model}@{aliases(model).get('champion')}: " + ", ".join(f"{s.name} {s.status}" for s in v1.steps))
    url = deploy(settings, port=port, gate_interval_s=1.0)
    ctl = get_controller(settings)
    ray.get(ctl.serve_model.remote(model, 1, None, 1, {"window_s": 4.0, "flush_s": 0.5, "min_rows": 100, "grace_s": 1.0}))
    deadline = time.time() + 30
    while model not in requests.get(f"{url}/v1/healthz", timeout=10).json().get("models", []) and time.time() < deadline:
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
                codes.append(s.post(f"{url}/v1/models/{model}:predict", json={"instances": [row]}, headers={"x-user-id": f"u{rng.integers(500)}"}, timeout=10).status_code)
            except requests.RequestException:
                codes.append(0)
            time.sleep(0.02)

    threads = [threading.Thread(target=traffic, args=(i,), daemon=True) for i in range(2)]
    for t in threads:
        t.start()
    actor = get_trigger_actor(settings)
    try:
        time.sleep(5)
        spec = loop_spec(settings, store, model, params={**params, "eval_data": str(golden), "min_samples": 20}, steps=[50, 100], bake_s=3.0, cooldown_s=600)
        ray.get(actor.add.remote(spec))
        say(f"serving {model}@1 under traffic; loop enabled: a drift alert of {model} runs retrain, then a canary 50% -> 100% with gates")
        shifted = time.time()
        _day(1500, shift, 2).to_csv(data / "day2.csv", index=False)
        mu["v"] = shift
        say(f"the world changes: inputs shift by +{shift} and a new day of labelled data lands in {data}")
        while aliases(model).get("champion") == 1 and time.time() < shifted + timeout_s:
            time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join()
    st = loop_status(store, model, trigger=spec)
    runs = runs_of(store, loop=model)
    if not runs:  # say why, with the monitor's own numbers, instead of an empty lineage
        mon = ray.get(get_monitor(settings, model).status.remote())["versions"].get("1") or {}
        say(
            f"no drift alert started a run within {timeout_s:.0f} s: the monitor judged {mon.get('windows_judged', 0)} of "
            f"{mon.get('windows_closed', 0)} closed windows ({mon.get('rows', 0)} rows); alerts firing: {mon.get('alerts') or 'none'}"
        )
    timeline = st.get("timeline") or {}
    alert_id = timeline.get("alert") or 0
    alert = store.get_execution(alert_id) if alert_id else None
    candidate = int(str(st["candidate"]).rpartition("@")[2]) if st["candidate"] else None
    if st["last_run"]:
        say(f"alert {alert_id} ({alert.properties.get('subject') if alert else '?'} drift) -> run {st['last_run']['run']}: {st['last_run']['state']}")
        for s in st["last_run"]["steps"]:
            say(f"  {s['name']:<20} {s['status']:<9} execution {s['execution_id']:<5} {s['seconds'] or 0:6.1f} s")
    say(f"candidate {st['candidate']}: {st['verdict']}; push: {(st.get('push') or {}).get('reason')}")
    if timeline.get("alert_to_canary_s") is not None:
        say(
            f"alert -> canary: {timeline['alert_to_canary_s']:.1f} s (the run started {timeline['pickup_s']:.1f} s after the alert); "
            f"{len(codes)} requests, {sum(c != 200 for c in codes)} failed; {model}@champion: {st['champion']}"
        )
    if alert is not None and candidate is not None:
        graph = store.lineage(("execution", alert.id), direction="down", hops=40)
        model_node = f"artifact:{registry.get(f'{model}@{candidate}')['artifact_id']}"
        say(f"lineage from the alert to {model}@{candidate} and its rollout decisions (all of it: raymlops lineage execution:{alert.id} --direction down):")
        say(lineage_path(graph, f"execution:{alert.id}", model_node, readers=("Evaluate", "RolloutDecision")))
    ray.kill(actor)
    worse: dict[str, Any] = {}
    if st["champion"] is not None and st["champion"] == candidate:
        # the safety net: a candidate trained on a day whose labels are wrong is evaluated
        # against the champion on the same trusted set, and a worse one is never pushed
        bad = settings.home / "decay" / "mislabelled"
        bad.mkdir(parents=True, exist_ok=True)
        _day(600, shift, 3, scramble=True).to_csv(bad / "day3.csv", index=False)
        w = run_pipeline("retrain", {**params, "data": str(bad), "eval_data": str(golden), "min_samples": 20}, settings=settings)
        ev, push = w.step("evaluate").result or {}, w.step("push").result or {}
        routes = ray.get(ctl.status.remote(model))["routes"]
        worse = {"candidate": (w.step("train").result or {}).get("model"), "verdict": ev.get("verdict"), "push": push.get("state"), "routes": routes}
        say(
            f"a day with scrambled labels -> retrain trained {worse['candidate']}: {worse['verdict']} against {model}@{candidate}; "
            f"push: {worse['push']}; {model}@champion: {aliases(model).get('champion')}; routes: "
            + ", ".join(f"v{r['version']} {r['percent']:g}%" for r in routes)
        )
    if not keep_serving:
        for app in list(serve.status().applications):
            if app.startswith("raymlops"):
                serve.delete(app)
        ray.kill(ctl)
        try:
            ray.kill(get_monitor(settings, model, create=False))
        except ValueError:  # no monitor: the model never got a judged window
            pass
    return {
        "champion": st["champion"], "candidate": st["candidate"], "verdict": st["verdict"], "requests": len(codes),
        "failed": sum(c != 200 for c in codes), "alert_to_canary_s": timeline.get("alert_to_canary_s"),
        "alert": alert_id or None, "steps": {s["name"]: s["status"] for s in (st["last_run"] or {}).get("steps", [])}, "worse": worse,
    }  # fmt: skip
