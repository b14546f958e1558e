"""The demo's serving chapter: the champion live, a challenger shadowed then canaried, gates decide."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import ray
import requests
from ray import serve

from raymlops.cli.render import table
from raymlops.core.config import Settings
from raymlops.demo.common import MODEL, TARGET
from raymlops.demo.drift import drift_chapter
from raymlops.monitoring import get_monitor
from raymlops.serving import ErrorRateGate, LatencyGate, RolloutPlan, ShadowAgreementGate, deploy, get_controller

__all__ = ["serving_chapter"]


def serving_chapter(
    settings: Settings, trainer: Any, prep: Any, say: Callable[[str], None], *, port: int = 8000, keep_serving: bool = False
) -> dict[str, Any]:
    """Serve the champion, shadow then canary a challenger under traffic, print the decisions."""
    reg = trainer.registry
    champion = reg.get(f"{MODEL}@champion")["version"]
    challenger = trainer.fit_estimator(
        prep, name=MODEL, estimator="linear", params={"C": 0.3}, experiment="demo",
        description="challenger: a more regularised linear model",
    )["version"]  # a tracked run with the data as inputs: its lineage reaches the raw feed
    _, blessing, _ = trainer.evaluate_and_bless(MODEL, challenger, prep, metric="accuracy", max_drop=0.02)
    reg.set_alias(MODEL, challenger, "challenger", reason="demo challenger")
    say(f"challenger {MODEL}@{challenger}: {blessing['verdict']} against the champion ({blessing['baseline']})")
    url = deploy(settings, port=port, gate_interval_s=2.0)
    ctl = get_controller(settings)
    monitoring = {"window_s": 5.0, "flush_s": 1.0, "min_rows": 50, "grace_s": 1.0}  # short windows for the demo
    ray.get(ctl.serve_model.remote(MODEL, champion, None, 1, monitoring))
    deadline = time.time() + 30
    while MODEL not in requests.get(f"{url}/v1/healthz", timeout=10).json().get("models", []) and time.time() < deadline:
        time.sleep(0.2)  # the ingress picks the new routing table up within a poll
    say(f"serving {MODEL}@{champion} (champion) at {url}/v1/models/{MODEL}:predict; drift monitored in {monitoring['window_s']:g} s windows")
    rows = prep.test.drop(columns=[TARGET]).to_dict(orient="records")
    stop = threading.Event()
    sent: list[int] = []
    scale: dict[str, float] = {}  # feature -> factor: the drift we inject later
    failures: list[str] = []

    def traffic(worker: int) -> None:
        s = requests.Session()
        i = worker
        while not stop.is_set():
            row = rows[i % len(rows)]
            if scale:
                row = {k: v * scale.get(k, 1.0) for k, v in row.items()}
            r = s.post(f"{url}/v1/models/{MODEL}:predict", json={"instances": [row]}, headers={"x-user-id": f"u{i % 200}"}, timeout=10)
            sent.append(r.status_code)
            if r.status_code != 200 and len(failures) < 3:
                failures.append(f"{r.status_code} {r.text[:200]}")
            if r.status_code == 200 and i % 3 == 0:  # some users report the true label
                s.post(f"{url}/v1/models/{MODEL}:feedback", json={"request_id": r.json()["request_id"], "labels": [int(prep.test[TARGET].iloc[i % len(rows)])]}, timeout=10)
            i += 2

    threads = [threading.Thread(target=traffic, args=(w,), daemon=True) for w in range(2)]
    for t in threads:
        t.start()
    try:
        gates = [ErrorRateGate(max_rate=0.05, min_samples=20), LatencyGate(max_ratio=2.0, min_samples=20)]  # p99 vs the champion's, same window
        shadow = RolloutPlan(
            model=MODEL, strategy="shadow", from_version=champion, to_version=challenger, bake_s=4,
            mirror_percent=50, gates=[*gates, ShadowAgreementGate(min_agreement=0.8, min_samples=20)],
        )
        ray.get(ctl.start_rollout.remote(shadow.to_dict()))
        time.sleep(8)
        st = ray.get(ctl.status.remote(MODEL))
        sh = st["shadow"]
        say(
            f"shadow: v{challenger} sees {sh['mirror_percent']:.0f}% of requests; {sh['pairs']} pairs, agreement "
            f"{sh['agreement']:.3f}, class-distribution distance {sh.get('distance') or 0:.3f}; clients only ever got v{champion}"
        )
        # starting the canary ends the shadow phase (recorded as end_shadow, state ENDED)
        canary = RolloutPlan(model=MODEL, strategy="canary", from_version=champion, to_version=challenger, steps=[20, 50, 100], bake_s=3, gates=gates)
        ray.get(ctl.start_rollout.remote(canary.to_dict()))
        deadline = time.time() + 180  # thin traffic on a busy machine: each step waits for min_samples
        while time.time() < deadline and ray.get(ctl.status.remote(MODEL))["state"] == "RUNNING":
            time.sleep(1)
        st = ray.get(ctl.status.remote(MODEL))
        decisions = [d for d in st["decisions"] if d["action"] != "hold"]
        say(table(decisions[-6:], ["action", "percent", "reason"]))
        say(f"canary outcome: {st['state']}; {len(sent)} requests, {sum(c != 200 for c in sent)} failed")
        for f in failures:
            say(f"  failed: {f}")
        drift = drift_chapter(settings, st["routes"][0]["version"], list(rows[0]), scale, monitoring["window_s"], say)
    finally:
        stop.set()
        for t in threads:
            t.join()
    if st["state"] == "PROMOTED" and blessing["verdict"] == "BLESSED":
        reg.set_alias(MODEL, challenger, "champion", reason="blessed, and its canary was promoted by the rollout controller")
        say(f"{MODEL}@champion -> version {challenger}")
    if not keep_serving:
        for app in list(serve.status().applications):
            if app.startswith("raymlops"):
                serve.delete(app)
        ray.kill(ctl)
        ray.kill(get_monitor(settings, MODEL, create=False))
    else:
        say(f"still serving at {url} (Ctrl-C to stop)")
    return {"state": st["state"], "decisions": decisions, "requests": len(sent), "failed": sum(c != 200 for c in sent), "drift": drift}
