"""Live drift monitoring on a 2-node cluster: two replicas on different nodes feed one monitor actor."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pandas as pd
import ray
import requests
from sklearn.linear_model import LogisticRegression

from raymlops.metadata import connect
from raymlops.registry import ModelRegistry
from raymlops.monitoring.live import reference_attachment

WINDOW_S = 3.0
ROWS = 100  # instances per request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _traffic(url: str, shift: float, stop: threading.Event, sent: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    s = requests.Session()
    while not stop.is_set():
        batch = pd.DataFrame({"a": rng.normal(shift, 1, ROWS), "b": rng.normal(0, 1, ROWS), "c": rng.normal(0, 1, ROWS)})
        r = s.post(f"{url}/v1/models/mn:predict", json={"instances": batch.to_dict(orient="records")}, timeout=30)
        if r.status_code == 200:
            sent.append(len(r.json()["predictions"]))
        time.sleep(0.05)


def _run(url: str, shift: float, seconds: float, sent: list[int]) -> None:
    stop = threading.Event()
    threads = [threading.Thread(target=_traffic, args=(url, shift, stop, sent, i + int(shift * 10))) for i in range(2)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()


def test_shifted_feature_flagged_only_and_no_alarm_over_five_unshifted_windows(two_nodes):
    from ray import serve
    from ray.util.state import list_actors

    from raymlops.monitoring.actor import get_monitor
    from raymlops.serving.app import deploy
    from raymlops.serving import get_controller

    settings, cluster = two_nodes
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=5000), "b": rng.normal(size=5000), "c": rng.normal(size=5000)})
    model = LogisticRegression().fit(X, (X.a - 0.5 * X.b > 0).astype(int))  # c does not matter
    ModelRegistry.connect(settings).register(model, "mn", input_example=X.head(), attachments=reference_attachment(model, X))

    url = deploy(settings, port=_free_port(), gate_interval_s=2.0, proxy_location="HeadOnly")
    ctl = get_controller(settings)
    try:
        # thin windows are not judged: an unshifted feature's Wasserstein/std reaches 0.1 in
        # 2.4% of 600-row windows, 0.03% of 1,400-row ones (DriftMonitor's docstring)
        monitoring = {"window_s": WINDOW_S, "flush_s": 0.5, "min_rows": 1500, "grace_s": 1.5}
        ray.get(ctl.serve_model.remote("mn", 1, None, 2, monitoring, 1))
        deadline = time.time() + 60
        while time.time() < deadline:
            if requests.get(f"{url}/v1/healthz", timeout=5).json().get("models") == ["mn"]:
                break
            time.sleep(0.5)
        replicas = [a for a in list_actors(filters=[("state", "=", "ALIVE")]) if "raymlops-mn-v1" in (a.class_name or "")]
        assert len(replicas) == 2 and len({a.node_id for a in replicas}) == 2  # one replica per node

        sent: list[int] = []
        _run(url, 0.0, 6 * WINDOW_S + 2.0, sent)
        monitor = get_monitor(settings, "mn", create=False)
        time.sleep(WINDOW_S + 2.0)  # the last window closes
        deadline = time.time() + 15  # fire-and-forget flushes land (later on a loaded machine)
        while ray.get(monitor.status.remote())["versions"]["1"]["rows"] < sum(sent) and time.time() < deadline:
            time.sleep(0.5)
        ray.get(monitor.tick.remote(time.time() + 2 * WINDOW_S))
        st = ray.get(monitor.status.remote())["versions"]["1"]
        judged = [st["last_window"]] if st["last_window"] else []
        assert st["rows"] == sum(sent) > 0  # every row from both nodes reached the monitor, none twice
        assert st["windows_judged"] >= 5, st
        assert st["alerts"] == [], st
        store = connect(settings)
        assert store.get_executions(type="DriftAlert") == []  # no alert ever fired, none resolved
        assert all(not f["drift"] for w in judged for f in w["features"])

        before = st["windows_closed"]
        shifted: list[int] = []
        _run(url, 3.0, 2 * WINDOW_S + 1.0, shifted)
        time.sleep(WINDOW_S + 2.0)
        ray.get(monitor.tick.remote(time.time() + 2 * WINDOW_S))
        st = ray.get(monitor.status.remote())["versions"]["1"]
        assert st["windows_closed"] > before
        assert set(st["alerts"]) == {"feature:a", "prediction"}, st["alerts"]
        drifted = {f["feature"] for f in (st["horizon"] or {}).get("features", []) if f["drift"]}
        assert "b" not in drifted and "c" not in drifted
        time.sleep(1.0)
        recorded = {(e.properties["subject"], e.properties["state"]) for e in store.get_executions(type="DriftAlert")}
        assert recorded == {("feature:a", "FIRING"), ("prediction", "FIRING")}
    finally:
        serve.shutdown()
        ray.kill(ctl)
