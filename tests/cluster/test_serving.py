"""Serving on a real Ray Serve, over real HTTP: routing, shadow, gates, rollouts, bad input."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import ray
import requests
from ray import serve
from sklearn.linear_model import LogisticRegression

from raymlops.metadata import connect
from raymlops.monitoring.actor import get_monitor
from raymlops.monitoring.live import reference_attachment
from raymlops.registry import ModelRegistry
from raymlops.serving.app import deploy
from raymlops.serving.controller_actor import get_controller
from raymlops.serving.gates import ErrorRateGate
from raymlops.serving.ingress_deployment import Ingress
from raymlops.serving.rollout import RolloutPlan
from tests.conftest import PYTHON, cli_env

GATE_S = 2.0
MODELS = ("stick", "shd", "shd0", "gate", "bg", "kill", "bad", "route", "mon", "recr")
MON_WINDOW_S = 2.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def trained_without_key(ray_session, tmp_path_factory):
    """`raymlops train` on a table with a row id, without --key (and with --keep-column rid).

    Trained before the Serve apps take their share of the 2 CPUs: Ray Data's tasks need a whole one.
    """
    tmp = tmp_path_factory.mktemp("rid")
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame({"rid": rng.permutation(np.arange(10_000, 10_000 + n)), "a": rng.normal(size=n), "b": rng.normal(size=n)})
    df["y"] = (df.a - df.b > 0).astype(int)
    df.to_csv(tmp / "rid.csv", index=False)
    env = cli_env(Path(ray_session.home), RAY_ADDRESS=ray.get_runtime_context().gcs_address)

    def train(*extra: str) -> subprocess.CompletedProcess:
        cmd = [PYTHON, "-m", "raymlops", "train", str(tmp / "rid.csv"), "--target", "y", *extra]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)

    return train("--name", "keyless"), train("--name", "keyed", "--keep-column", "rid", "--json")


@pytest.fixture(scope="module")
def serving(ray_session, trained_without_key):
    reg = ModelRegistry.connect(ray_session)
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = (X.a + X.b > 0).astype(int)
    for name in MODELS:
        for C in (1.0, 0.5, 0.2):
            ref = X if name != "mon" else pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
            model = LogisticRegression(C=C).fit(X, y)
            reg.register(model, name, input_example=X.head(), attachments=reference_attachment(model, ref))
    port = _free_port()
    url = deploy(ray_session, port=port, gate_interval_s=GATE_S, ingress_replicas=2)
    ctl = get_controller(ray_session)
    mon = {"window_s": MON_WINDOW_S, "flush_s": 0.3, "min_rows": 1500, "grace_s": 1.0}
    # monitoring only where it is under test: every monitored model adds an actor (a process) on 2 cores
    specs = [
        {"model": name, "version": 1, "replicas": 2 if name == "kill" else 1, "monitoring": mon if name == "mon" else False}
        for name in MODELS
    ]
    tables = ray.get(ctl.serve_models.remote(specs))
    assert [(t["model"], t["routes"]) for t in tables] == [(n, [{"version": 1, "percent": 100}]) for n in MODELS]
    secure = {**ray_session.model_dump(), "api_token": "s3cret"}
    serve.run(Ingress.options(name="secure").bind(secure, []), name="secure", route_prefix="/secure")
    _wait_for(lambda: requests.get(f"{url}/v1/healthz").json()["models"] == sorted(MODELS))
    yield url, ctl, ray_session
    serve.shutdown()
    ray.kill(ctl)


def _wait_for(cond, timeout: float = 30.0) -> float:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return time.time() - t0
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _wait_routed(url: str, ctl, target: int | None = None) -> float:
    """Seconds until every ingress replica routes by revision ``target`` (default: the latest; 12 calls reach both)."""
    target = ray.get(ctl.get_tables.remote(-1))["revision"] if target is None else target
    return _wait_for(lambda: all(requests.get(f"{url}/v1/healthz").json()["revision"] >= target for _ in range(12)), 5)


def _predict(session, url, model, user=None, body=None):
    headers = {"x-user-id": user} if user is not None else {}
    return session.post(
        f"{url}/v1/models/{model}:predict", json=body or {"instances": [{"a": 0.5, "b": -0.2}]}, headers=headers, timeout=10
    )


def test_canary_is_sticky_by_user_and_monotone_when_raised(serving):
    url, ctl, _ = serving
    plan = RolloutPlan(model="stick", strategy="canary", from_version=1, to_version=2, steps=[20], bake_s=3600)
    ray.get(ctl.start_rollout.remote(plan.to_dict()))
    _wait_routed(url, ctl)  # within 2 s (next test); a user may switch while the change propagates
    users = [f"user-{i}" for i in range(500)]  # binomial sd of the share: 1.8 points

    def versions_seen(part: list[str], passes: int) -> dict[str, set[str]]:
        s, seen = requests.Session(), {}
        for _ in range(passes):
            for u in part:
                r = _predict(s, url, "stick", u)
                assert r.status_code == 200
                seen.setdefault(u, set()).add(r.headers["x-model-version"])
        return seen

    def ask_everyone(passes: int) -> dict[str, set[str]]:  # 4 clients, a quarter of the users each
        with ThreadPoolExecutor(4) as pool:
            return {u: v for part in pool.map(versions_seen, [users[i::4] for i in range(4)], [passes] * 4) for u, v in part.items()}

    seen = ask_everyone(2)  # 1,000 requests
    assert all(len(v) == 1 for v in seen.values()), "a user switched versions"
    canary = {u for u, v in seen.items() if v == {"2"}}
    assert abs(len(canary) / len(users) - 0.20) <= 0.05
    ray.get(ctl.set_percent.remote("stick", 50.0))
    _wait_routed(url, ctl)
    after = {u: v.pop() for u, v in ask_everyone(1).items()}
    assert all(after[u] == "2" for u in canary), "an earlier canary user left the canary at 50%"
    assert abs(sum(v == "2" for v in after.values()) / len(users) - 0.50) <= 0.08
    ray.get(ctl.rollback.remote("stick", "test done"))


def test_routing_changes_reach_every_ingress_replica_within_2s(serving):
    url, ctl, _ = serving
    before = max(requests.get(f"{url}/v1/healthz").json()["revision"] for _ in range(10))
    plan = RolloutPlan(model="route", strategy="canary", from_version=1, to_version=2, steps=[50], bake_s=3600)
    ray.get(ctl.start_rollout.remote(plan.to_dict()))
    t0 = time.time()  # the controller's table changed before start_rollout returned
    target = ray.get(ctl.get_tables.remote(before))["revision"]
    waited = _wait_routed(url, ctl, target)
    # when each ingress replica began routing by the new table (its own clock, reported by
    # healthz), not when our probes got through: on a loaded machine 12 probes take seconds
    adopted: dict[str, float] = {}
    deadline = time.time() + 10
    while len(adopted) < 2 and time.time() < deadline:
        h = requests.get(f"{url}/v1/healthz", timeout=10).json()
        if h["revision"] >= target:
            adopted.setdefault(h["replica"], h["revision_at"])
    assert len(adopted) == 2, adopted  # both ingress replicas answered
    assert max(adopted.values()) - t0 <= 2.0 + 0.5, (adopted, t0, waited)
    ray.get(ctl.rollback.remote("route", "test done"))


def _p99(xs):
    return float(np.quantile(np.asarray(xs), 0.99))


def test_shadow_never_changes_the_primary_and_records_pairs(serving):
    url, ctl, _ = serving

    def timed(n: int, models=("shd",), period_s: float | None = None) -> dict[str, tuple[list[float], set[str]]]:
        """``n`` ticks; each sends one request per model at the same moment (in parallel)."""
        sessions = {m: requests.Session() for m in models}
        out = {m: ([], set()) for m in models}

        def one(model: str, i: int) -> None:
            t0 = time.perf_counter()
            r = _predict(sessions[model], url, model, body={"instances": [{"a": float(i % 7) - 3, "b": 0.1}]})
            out[model][0].append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200
            out[model][1].add(r.headers["x-model-version"])

        nxt = time.perf_counter()
        with ThreadPoolExecutor(len(models)) as pool:
            for i in range(n):
                if period_s is not None:  # a steady rate, not as fast as possible
                    time.sleep(max(0.0, nxt - time.perf_counter()))
                    nxt += period_s
                order = models[i % len(models):] + models[: i % len(models)]  # neither side always first
                for f in [pool.submit(one, m, i) for m in order]:
                    f.result()
        return out

    # A 600 ms shadow mirroring 10% of "shd"'s requests, against its twin "shd0" (the same
    # model, no shadow) behind the same ingress. Each tick sends one request to each at the
    # same moment, so a stall of this 2-core machine hits both sides alike; 3 clients at a
    # steady 40 requests/s in all; 1,200 a side. If the primary waited for its mirror, a
    # tenth of its answers would take 600 ms more and its p95 would move by about that
    # much; the test asserts it moves by less than half of it. How much a fire-and-forget
    # shadow costs the primary (the p99 and throughput ratios) is bench_serving's figure:
    # a p99 ratio of 1,200 requests is within stall noise on a loaded 2-core machine (1.19x
    # with p99s of 1.2 s in a full-suite run).
    delay_ms = 600
    slow = RolloutPlan(model="shd", strategy="shadow", from_version=1, to_version=2, bake_s=3600, mirror_percent=10)
    ray.get(ctl.start_rollout.remote(slow.to_dict(), {"delay_ms": delay_ms}))
    _wait_routed(url, ctl)
    timed(60, ("shd", "shd0"))  # warm-up: connections, and mirrored requests from both ingress replicas
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(timed(400, ("shd", "shd0"), 0.15))) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    shadowed = [x for r in results for x in r["shd"][0]]
    base = [x for r in results for x in r["shd0"][0]]
    assert len(shadowed) == len(base) == 1200
    assert set().union(*(r["shd"][1] for r in results)) == {"1"}
    # the mirrored requests' answers arrive and are flushed as pairs. Mirroring is best effort:
    # on a saturated machine the ingress sheds mirrors (counted per reason), so the test waits
    # for the ones that were sent (126 chosen of 1,260 at 10%; 100 pairs within 15 s alone,
    # fewer under a full suite's load) rather than for a fixed number
    def paired() -> bool:
        sh = ray.get(ctl.status.remote("shd"))["shadow"]
        return sh["mirrored"] >= 10 and sh["pairs"] >= min(100, 0.8 * sh["mirrored"])

    _wait_for(paired, 60)
    print("shadow:", {k: v for k, v in ray.get(ctl.status.remote("shd"))["shadow"].items() if k in ("mirrored", "dropped", "pairs")})
    assert ray.get(ctl.status.remote("shd"))["shadow"]["agreement"] is not None
    p95 = {k: float(np.quantile(np.asarray(v), 0.95)) for k, v in (("base", base), ("shadowed", shadowed))}
    print(f"primary p95 / p99 without shadow {p95['base']:.1f} / {_p99(base):.1f} ms, with a {delay_ms} ms shadow {p95['shadowed']:.1f} / {_p99(shadowed):.1f} ms")
    assert p95["shadowed"] - p95["base"] < delay_ms / 2, (p95, _p99(base), _p99(shadowed))
    ray.get(ctl.rollback.remote("shd", "next shadow"))
    half = RolloutPlan(model="shd", strategy="shadow", from_version=1, to_version=3, bake_s=3600, mirror_percent=50)
    ray.get(ctl.start_rollout.remote(half.to_dict(), {"raise": True}))
    _wait_routed(url, ctl)
    versions = timed(200)["shd"][1]
    assert versions == {"1"}
    _wait_for(lambda: ray.get(ctl.status.remote("shd"))["shadow"]["shadow_errors"] >= 70, 15)
    time.sleep(1.5)  # the rest of the mirrored calls
    sh = ray.get(ctl.status.remote("shd"))["shadow"]
    assert abs(sh["shadow_errors"] / 200 - 0.5) <= 0.15, sh
    ray.get(ctl.rollback.remote("shd", "test done"))


def _traffic(url: str, model: str, stop: threading.Event, out: list) -> None:
    s = requests.Session()
    while not stop.is_set():
        try:
            r = _predict(s, url, model, user=str(np.random.randint(10_000)))
            out.append((r.status_code, r.headers.get("x-model-version"), time.time()))
        except requests.RequestException:
            out.append((0, None, time.time()))
        time.sleep(0.01)


def test_a_failing_canary_is_rolled_back_within_two_gate_intervals_and_a_healthy_one_promoted(serving):
    url, ctl, settings = serving
    gates = [ErrorRateGate(max_rate=0.1, min_samples=10)]
    stop, out = threading.Event(), []
    threads = [threading.Thread(target=_traffic, args=(url, "gate", stop, out), daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        bad = RolloutPlan(model="gate", strategy="canary", from_version=1, to_version=2, steps=[20, 50, 100], bake_s=2, gates=gates)
        st = ray.get(ctl.start_rollout.remote(bad.to_dict(), {"fail_rate": 0.3}))
        started = [d for d in st["decisions"] if d["action"] == "start"][-1]["time"]
        _wait_for(lambda: ray.get(ctl.status.remote("gate"))["state"] == "ROLLED_BACK", 15)
        st = ray.get(ctl.status.remote("gate"))
        rb = [d for d in st["decisions"] if d["action"] == "rollback"][-1]
        # within two gate intervals of the gate having its evidence: the canary's 10th answer (on a
        # loaded machine the 20% share takes seconds to reach min_samples, and the gate holds till then)
        answered = sorted(t for _, v, t in list(out) if v == "2" and t >= started)
        evidence = max(started, answered[9]) if len(answered) >= 10 else started
        assert rb["time"] - evidence <= 2 * GATE_S + 0.6, (rb["time"] - started, rb["time"] - evidence, st["decisions"])
        assert rb["numbers"]["error_rate"] > 0.1 and rb["numbers"]["error_rate_samples"] >= 10
        good = RolloutPlan(model="gate", strategy="canary", from_version=1, to_version=3, steps=[20, 50, 100], bake_s=1.5, gates=gates)
        ray.get(ctl.start_rollout.remote(good.to_dict()))
        _wait_for(lambda: ray.get(ctl.status.remote("gate"))["state"] == "PROMOTED", 30)
    finally:
        stop.set()
        for t in threads:
            t.join()
    st = ray.get(ctl.status.remote("gate"))
    last = [d for d in st["decisions"] if d.get("percent") is not None and d["action"] != "hold"]
    actions = [d["action"] for d in st["decisions"] if d["action"] != "hold"][-4:]  # holds: thin traffic waits
    assert actions == ["start", "advance", "advance", "promote"], actions
    assert [d["percent"] for d in last[-4:]] == [20.0, 50.0, 100.0, 100.0]
    assert st["routes"] == [{"version": 3, "percent": 100.0}]
    store = connect(settings)

    def gate_decisions() -> list:
        return [e for e in store.get_executions(type="RolloutDecision") if e.properties["model"] == "gate"]

    # the controller writes decisions to the store after it acts: the last one may land a moment later
    _wait_for(lambda: "promote" in {e.properties["action"] for e in gate_decisions()}, 15)
    decisions = gate_decisions()
    recorded = [e for e in decisions if e.properties["action"] == "rollback"]
    assert recorded and recorded[-1].properties["numbers"]["error_rate"] > 0.1
    assert {e.properties["action"] for e in decisions} >= {"start", "advance", "promote", "rollback"}


def test_no_failed_request_during_blue_green_and_promote_under_load(serving, tmp_path):
    url, ctl, _ = serving
    out, done = tmp_path / "load.json", tmp_path / "load.stop"
    load = subprocess.Popen([sys.executable, str(Path(__file__).parent / "_load.py"), url, "bg", "120", "25", str(out), str(done)])
    try:
        time.sleep(2)
        bg = RolloutPlan(model="bg", strategy="blue-green", from_version=1, to_version=2, steps=[100], bake_s=2)
        ray.get(ctl.start_rollout.remote(bg.to_dict()))
        _wait_for(lambda: ray.get(ctl.status.remote("bg"))["state"] == "PROMOTED", 30)
        canary = RolloutPlan(model="bg", strategy="canary", from_version=2, to_version=3, steps=[50], bake_s=3600)
        ray.get(ctl.start_rollout.remote(canary.to_dict()))
        time.sleep(3)
        ray.get(ctl.promote.remote("bg", "manual promote under load"))
        _wait_for(lambda: ray.get(ctl.status.remote("bg"))["routes"] == [{"version": 3, "percent": 100.0}], 30)
        time.sleep(3)  # requests after the promote reach version 3 only
    finally:
        done.touch()
        assert load.wait(timeout=60) == 0
    results = json.loads(out.read_text())
    codes = [c for _, c, _ in results]
    versions = {v for _, c, v in results if c == 200}
    assert codes.count(200) == len(codes), {c: codes.count(c) for c in set(codes)}
    assert versions == {"1", "2", "3"}
    # load through every phase (a count, not a rate: a loaded machine answers 25/s or 19/s alike without failing)
    per_version = {v: sum(1 for _, c, x in results if c == 200 and x == v) for v in versions}
    assert len(results) >= 300 and min(per_version.values()) >= 20, per_version
    # the retired versions' servers are deleted once every ingress replica has moved on
    _wait_for(lambda: not {"raymlops-bg-v1", "raymlops-bg-v2"} & set(serve.status().applications), 15)
    assert "raymlops-bg-v3" in serve.status().applications


def test_recreate_replaces_the_version_and_reports_its_downtime(serving):
    url, ctl, _ = serving
    plan = RolloutPlan(model="recr", strategy="recreate", from_version=1, to_version=2)
    st = ray.get(ctl.start_rollout.remote(plan.to_dict()))
    apps = set(serve.status().applications)
    assert "raymlops-recr-v1" not in apps and "raymlops-recr-v2" in apps  # the old one went first
    assert st["routes"] == [{"version": 2, "percent": 100.0}]
    assert st["downtime_s"] is not None and 0 < st["downtime_s"] < 60
    _wait_routed(url, ctl)
    r = _predict(requests.Session(), url, "recr")
    assert r.status_code == 200 and r.headers["x-model-version"] == "2"


def test_bad_input_is_always_4xx_json_and_replicas_stay_healthy(serving):
    url, _, _ = serving
    s = requests.Session()
    p = f"{url}/v1/models/bad:predict"
    cases = [
        (b"{not json", 400),
        (b'{"instances": [{"a": "x", "b": 1.0}]}', 422),
        (b'{"instances": [{"a": 1.0}]}', 422),
        (b'{"instances": [{"a": 1.0, "b": 2.0, "c": 3}]}', 422),
        (b'{"instances": [{"a": NaN, "b": 2.0}]}', 422),
        (b'{"instances": []}', 422),
        (b'{"instances": {"a": 1.0}}', 422),
        (b'{"instances": [1, 2]}', 422),
        (b'[]', 422),
        (b'{"instances": [{"a": true, "b": 2.0}]}', 422),
        (json.dumps({"instances": [{"a": 1.0, "b": 2.0}] * 20000}).encode(), 413),
    ]
    statuses = []
    for body, want in cases:
        r = s.post(p, data=body, headers={"content-type": "application/json"})
        statuses.append(r.status_code)
        assert r.status_code == want, (body[:60], r.status_code, r.text[:200])
        assert set(r.json()["error"]) == {"code", "message", "details"}
    r = s.post(f"{url}/v1/models/missing:predict", json={"instances": [{"a": 1.0, "b": 1.0}]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    r = s.post(f"{url}/secure/v1/models/bad:predict", json={"instances": [{"a": 1.0, "b": 1.0}]})
    assert r.status_code == 401 and "error" in r.json()
    r = s.post(f"{url}/secure/v1/models/bad:predict", json={"instances": [{"a": 1.0, "b": 1.0}]}, headers={"authorization": "Bearer s3cret"})
    assert r.status_code == 200
    r = s.post(f"{url}/v1/models/bad:feedback", json={"request_id": "nope", "labels": [1]})
    assert 400 <= r.status_code < 500
    assert not [x for x in statuses if x >= 500]
    assert s.get(f"{url}/-/healthz").status_code == 200  # Serve's proxy
    assert s.get(f"{url}/v1/healthz").json()["status"] == "ok"
    assert _predict(s, url, "bad").status_code == 200


def test_a_model_trained_without_key_ignores_the_row_id_and_serves_rows_without_it(serving, trained_without_key):
    """Issue 11.2: `train` without --key on a table with a row id; the served model needs no id."""
    url, ctl, settings = serving
    plain, kept = trained_without_key
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert "not features" in plain.stdout and "rid: unique per row" in plain.stdout, plain.stdout
    reg = ModelRegistry.connect(settings)
    assert [c["name"] for c in reg.get("keyless@1")["signature"]["inputs"]] == ["a", "b"]
    ray.get(ctl.serve_models.remote([{"model": "keyless", "version": 1, "monitoring": False}]))
    row = {"instances": [{"a": 1.0, "b": -1.0}]}
    # every ingress replica has the model once a few requests in a row find it
    _wait_for(lambda: all(requests.post(f"{url}/v1/models/keyless:predict", json=row, timeout=30).status_code != 404 for _ in range(6)))
    r = requests.post(f"{url}/v1/models/keyless:predict", json=row, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == [1]
    # --keep-column keeps it: the row id is then a feature the request must carry
    assert kept.returncode == 0, kept.stderr[-2000:]
    assert json.loads(kept.stdout)["excluded_columns"] == []
    assert "rid" in [c["name"] for c in reg.get("keyed@1")["signature"]["inputs"]]


def test_a_replica_killed_under_load_costs_at_most_1_percent(serving):
    url, ctl, _ = serving

    def replicas() -> list[dict]:
        return [a for a in ray.util.list_named_actors(all_namespaces=True) if "raymlops-kill-v1" in a["name"] and "REPLICA" in a["name"].upper()]

    stop, out = threading.Event(), []
    threads = [threading.Thread(target=_traffic, args=(url, "kill", stop, out), daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(2)
    victims = replicas()
    assert len(victims) == 2, victims
    ray.kill(ray.get_actor(victims[0]["name"], namespace=victims[0]["namespace"]), no_restart=True)
    killed_at, before = time.time(), len(out)
    # at least 6 s and 300 requests after the kill, however fast this machine serves today
    _wait_for(lambda: time.time() - killed_at >= 6 and len(out) - before >= 300, 90)
    stop.set()
    for t in threads:
        t.join()
    failed = sum(1 for c, _, _ in out if c != 200)
    assert failed / len(out) <= 0.01, (failed, len(out))

    def recovered() -> bool:
        app = serve.status().applications["raymlops-kill-v1"]
        dep = app.deployments["model"]
        return app.status == "RUNNING" and dep.replica_states.get("RUNNING", 0) == 2

    _wait_for(recovered, 30)
    assert _predict(requests.Session(), url, "kill").status_code == 200


def _send_rows(url, shift, seconds, seed):
    rng = np.random.default_rng(seed)
    s = requests.Session()
    sent, t_end = 0, time.time() + seconds
    while time.time() < t_end:
        batch = [{"a": float(a), "b": float(b)} for a, b in zip(rng.normal(shift, 1, 200), rng.normal(0, 1, 200))]
        r = s.post(f"{url}/v1/models/mon:predict", json={"instances": batch}, timeout=10)
        assert r.status_code == 200, r.text
        sent += 200
        time.sleep(0.02)
    return sent


def test_monitor_flags_the_shifted_feature_and_a_killed_monitor_restarts_with_its_state(serving):
    url, ctl, settings = serving
    sent = _send_rows(url, 0.0, 2 * MON_WINDOW_S, seed=1)
    monitor = get_monitor(settings, "mon", create=False)
    _wait_for(lambda: ray.get(monitor.status.remote())["versions"].get("1", {}).get("windows_closed", 0) >= 1, timeout=20)
    sent += _send_rows(url, 3.0, 2.5 * MON_WINDOW_S, seed=2)
    _wait_for(lambda: ray.get(monitor.status.remote())["versions"]["1"]["rows"] == sent, timeout=10)  # all flushed
    ray.get(monitor.tick.remote(time.time() + 3 * MON_WINDOW_S))  # close what is still open
    st = ray.get(monitor.status.remote())["versions"]["1"]
    assert set(st["alerts"]) == {"feature:a", "prediction", "dataset"}, st  # 1 of 2 features: drift share 0.5
    last = st["last_window"]
    assert last["judged"] and {f["feature"]: f["drift"] for f in last["features"]} == {"a": True, "b": False}
    assert {f["feature"]: f["test"] for f in last["features"]} == {"a": "wasserstein_normed", "b": "wasserstein_normed"}
    assert st["rows"] == sent and st["late_rows"] == 0  # every served row, exactly once
    store = connect(settings)
    alerts = {(e.properties["subject"], e.properties["state"]) for e in store.get_executions(type="DriftAlert") if e.properties.get("model") == "mon"}
    assert {("feature:a", "FIRING"), ("prediction", "FIRING")} <= alerts

    # the drift gate of a canary asks the monitor: version 1 drifted
    assert ray.get(monitor.drift_flag.remote(1)) is True

    closed = st["windows_closed"]
    ray.kill(monitor, no_restart=False)  # Ray restarts it; it restores from its checkpoint
    _wait_for(lambda: _restored(monitor), timeout=30)
    st2 = ray.get(monitor.status.remote())
    assert st2["versions"]["1"]["windows_closed"] >= closed and set(st2["versions"]["1"]["alerts"]) == {"feature:a", "prediction", "dataset"}
    sent += _send_rows(url, 0.0, 1.5 * MON_WINDOW_S, seed=3)  # replicas keep flushing to the restarted actor
    _wait_for(lambda: ray.get(monitor.status.remote())["versions"]["1"]["windows_closed"] > st2["versions"]["1"]["windows_closed"], timeout=20)


def _restored(monitor) -> bool:
    try:
        return ray.get(monitor.status.remote(), timeout=5)["restored_from"] is not None
    except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
        return False
