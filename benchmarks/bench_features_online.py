"""Online features: materialization rows/s and in-process read latency, SQLite and Redis, vs Feast.

Shape (Feast's published benchmark): 50 features in 5 views (10 float features each),
1M entities; every entity has one row per view. Each store is filled by
``FeatureStore.materialize`` (rows/s = rows written / wall time, reading the Parquet
sources on Ray included), then read in process through ``FeatureStore.reader`` (TTL
enforced, statuses computed) with uniformly random keys: p50/p99 over 2,000 reads at
batch 1 and at batch 100. Redis is a real ``redis-server`` started on a free port.

Baseline in the same run: Feast 0.67's SQLite online store (benchmarks/.venv-feast),
same sources; Feast's materialization is slow, so it loads ``--feast-entities`` entities
(default 100k) and reads keys among those.

Through the Serve ingress: one linear model over the 50 features is registered three
times: bound to the SQLite store, bound to the Redis store (``FeatureStore.bind_model``),
and unbound. The raymlops ingress and the three model servers run on this machine's Ray
Serve; one client sends sequential HTTP requests, rotating over the three models so a
stall of the machine hits all alike: ``{"driver_id": k}`` to the bound ones (the model
server joins the 50 online features), the same entity's 50 values in the body to the
unbound one (the baseline: the same request without features to look up). p99 of each
over ``--http-requests`` requests at batch 1 and at batch 100; the figure is the p99 of a
bound model minus the baseline's.

Targets (issue 13): in process, p99 <= 1 ms at batch 1 and <= 5 ms at batch 100, on
SQLite and Redis; through the ingress, p99 <= 5 ms above a request without features.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from _common import HERE, report, side_venv

VIEWS, FEATURES = 5, 10
END = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0).isoformat()  # fresh: served reads judge the TTL now


def generate(folder: str, entities: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    end_us = np.datetime64(END, "us").astype(np.int64)
    views = []
    for v in range(VIEWS):
        path = os.path.join(folder, f"view{v}.parquet")
        cols = {"driver_id": np.arange(entities, dtype=np.int64),
                "event_timestamp": pa.array(end_us - rng.integers(60_000_000, 3_600_000_000, entities), pa.timestamp("us"))}
        cols |= {f"f{v}_{i}": rng.random(entities) for i in range(FEATURES)}
        pq.write_table(pa.table(cols), path, row_group_size=250_000)
        views.append({"name": f"view{v}", "path": path, "features": [f"f{v}_{i}" for i in range(FEATURES)]})
    repo = {"entities": [{"name": "driver", "join_keys": ["driver_id"]}],
            "sources": [{"name": f"s{v['name']}", "path": v["path"], "timestamp_field": "event_timestamp"} for v in views],
            "feature_views": [{"name": v["name"], "entities": ["driver"], "source": f"s{v['name']}", "ttl": "1d",
                               "features": [{"name": f, "dtype": "float"} for f in v["features"]]} for v in views]}
    with open(os.path.join(folder, "repo.yaml"), "w") as f:
        yaml.safe_dump(repo, f)
    return {"repo": os.path.join(folder, "repo.yaml"), "views": views}


def start_redis(folder: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--dir", folder,
                             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, f"redis://127.0.0.1:{port}/0"


def latencies(fs, entities: int, batch: int, iterations: int = 2000) -> dict:
    from raymlops.features.times import to_us

    selection = fs.repo.resolve([f"view{v}:f{v}_{i}" for v in range(VIEWS) for i in range(FEATURES)])
    read = fs.reader(selection)
    now = to_us(END)
    rng = np.random.default_rng(1)
    times = []
    for i in range(iterations + 50):
        rows = [{"driver_id": int(k)} for k in rng.integers(0, entities, batch)]
        t = time.perf_counter()
        r = read(rows, now_us=now)
        if i >= 50:
            times.append((time.perf_counter() - t) * 1000)
    assert all(s == "PRESENT" for s in r.status["view0__f0_0"])
    times.sort()
    return {"p50_ms": round(times[len(times) // 2], 3), "p99_ms": round(times[int(len(times) * 0.99)], 3)}


def _p(times: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(times), q)), 3)


def ingress_part(settings, repo: str, stores: dict[str, str], entities: int, requests_n: int) -> dict:
    """p50/p99 through the raymlops ingress: bound models (by entity key) vs the same model unbound."""
    import pandas as pd
    import ray
    import requests
    from ray import serve
    from sklearn.linear_model import LinearRegression

    from raymlops.features import FeatureStore
    from raymlops.registry import ModelRegistry
    from raymlops.serving import deploy, get_controller

    cols = [f"view{v}__f{v}_{i}" for v in range(VIEWS) for i in range(FEATURES)]
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.random((200, len(cols))), columns=cols)
    model = LinearRegression().fit(X, X.sum(axis=1))
    reg = ModelRegistry.connect(settings)
    names = {"plain": "bench-plain"} | {s: f"bench-{s}" for s in stores}
    versions = {k: reg.register(model, n, input_example=X.head())["version"] for k, n in names.items()}
    service = {"services": [{"name": "all", "features": [f"view{v}:f{v}_{i}" for v in range(VIEWS) for i in range(FEATURES)]}]}
    with open(repo) as f:
        spec = yaml.safe_load(f)
    with open(repo, "w") as f:
        yaml.safe_dump(spec | service, f)
    stores_fs = {}
    for s, uri in stores.items():
        fs = stores_fs[s] = FeatureStore(repo, settings=settings, online=uri)
        fs.apply()
        fs.bind_model(f"{names[s]}@{versions[s]}", service="all", registry=reg)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = deploy(settings, port=port, gate_interval_s=60)
    ctl = get_controller(settings)
    ray.get(ctl.serve_models.remote([{"model": n, "version": versions[k], "monitoring": False} for k, n in names.items()]))
    while sorted(requests.get(f"{url}/v1/healthz").json()["models"]) != sorted(names.values()):
        time.sleep(0.2)
    sqlite_fs = next(iter(stores_fs.values()))
    out = {}
    session = requests.Session()
    for batch in (1, 100):
        times: dict[str, list[float]] = {k: [] for k in names}
        for i in range(requests_n + 20):
            keys = [int(k) for k in rng.integers(0, entities, batch)]
            by_key = {"instances": [{"driver_id": k} for k in keys]}
            values = sqlite_fs.get_online_features([{"driver_id": k} for k in keys], service="all").values
            explicit = {"instances": [{c: values[c][j] for c in cols} for j in range(batch)]}
            order = list(names)[i % len(names):] + list(names)[: i % len(names)]
            for k in order:
                body = explicit if k == "plain" else by_key
                t0 = time.perf_counter()
                r = session.post(f"{url}/v1/models/{names[k]}:predict", json=body, timeout=30)
                ms = (time.perf_counter() - t0) * 1000
                assert r.status_code == 200, r.text[:300]
                if i >= 20:
                    times[k].append(ms)
        res = {k: {"p50_ms": _p(t, 50), "p99_ms": _p(t, 99)} for k, t in times.items()}
        for s in stores:
            res[s]["p99_above_baseline_ms"] = round(res[s]["p99_ms"] - res["plain"]["p99_ms"], 3)
            res[s]["target_le_5ms"] = res[s]["p99_above_baseline_ms"] <= 5
        out[f"batch{batch}"] = res
    serve.shutdown()
    ray.kill(ctl)
    out["requests_per_model"] = requests_n
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entities", type=int, default=1_000_000)
    ap.add_argument("--feast-entities", type=int, default=100_000)
    ap.add_argument("--http-requests", type=int, default=1000)
    ap.add_argument("--no-feast", action="store_true")
    ap.add_argument("--no-ingress", action="store_true")
    args = ap.parse_args()
    from raymlops.core import runtime
    from raymlops.core.config import Settings
    from raymlops.features import FeatureStore

    folder = tempfile.mkdtemp(prefix="bench-online-")
    data = generate(folder, args.entities)
    settings = Settings.resolve(home=os.path.join(folder, "home"), env={})
    settings.ensure_home()
    runtime.init(settings)
    figures: dict = {"entities": args.entities, "views": VIEWS, "features": VIEWS * FEATURES}
    redis_proc, redis_url = start_redis(folder)
    stores = {"sqlite": f"sqlite:///{folder}/online.db", "redis": redis_url}
    try:
        for name, online in stores.items():
            fs = FeatureStore(data["repo"], settings=settings, online=online)
            fs.apply()
            t0 = time.perf_counter()
            m = fs.materialize(end=END)
            seconds = time.perf_counter() - t0
            rows = sum(v["rows_written"] for v in m["views"].values())
            b1, b100 = latencies(fs, args.entities, 1), latencies(fs, args.entities, 100)
            figures[name] = {"materialize_rows": rows, "materialize_s": round(seconds, 1), "materialize_rows_per_s": round(rows / seconds),
                             "batch1": b1 | {"target_le_1ms": b1["p99_ms"] <= 1}, "batch100": b100 | {"target_le_5ms": b100["p99_ms"] <= 5}}
        if not args.no_ingress:
            figures["ingress"] = ingress_part(settings, data["repo"], stores, args.entities, args.http_requests)
    finally:
        redis_proc.terminate()
        redis_proc.wait()
    if not args.no_feast:
        py = side_venv("feast", "feast[duckdb]==0.67.0")
        if py is not None:
            small = os.path.join(folder, "feast")
            os.makedirs(small)
            views = []
            for v in data["views"]:
                t = pq.read_table(v["path"]).slice(0, args.feast_entities)
                path = os.path.join(small, os.path.basename(v["path"]))
                pq.write_table(t, path)
                views.append(v | {"path": path})
            spec = os.path.join(folder, "feast.json")
            json.dump({"views": views, "entities": args.feast_entities, "end": END, "iterations": 2000}, open(spec, "w"))
            res = subprocess.run([str(py), str(HERE / "_feast_online.py"), spec], capture_output=True, text=True)
            figures["feast_sqlite"] = json.loads(res.stdout.splitlines()[-1]) if res.returncode == 0 else {"error": res.stderr[-800:]}
    report("bench_features_online", figures)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
