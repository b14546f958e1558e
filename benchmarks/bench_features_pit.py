"""Point-in-time join: raymlops on Ray Data vs DuckDB's ASOF JOIN vs Feast's DuckDB and Dask stores.

Workload (issue 13): 1M entity rows x 5M feature rows (3 views of 1.67M rows, 10 float
features each, TTLs 1d / 7d / none), 100k driver keys drawn with Zipf skew (s = 1.1),
timestamps over 30 days, created times after event times, no two rows of a key with the
same event time (so every engine must return the same rows). One Parquet file per view.

Each engine reads the same files and writes the joined rows, in entity order:

* raymlops: ``FeatureStore.get_historical_features`` (hash-partitioned shuffle as Ray
  tasks, lineage recorded) on a local Ray with the machine's CPUs: the first run (workers
  start, sources hashed) and the median of three more on the warm Ray;
* DuckDB ASOF JOIN (the single-node limit reference): three ASOF LEFT JOINs, the TTL as
  a CASE on the matched event time, ORDER BY the entity row, COPY to Parquet (median of 3);
* Feast 0.67 (in benchmarks/.venv-feast): the DuckDB/ibis store and the Dask (file) store.

Output identity: sha256 of (row_id, every feature column) in entity order.
Targets: raymlops <= 2x DuckDB's time; >= 5x faster than Feast's Dask store.

``--scale 10`` runs 10M x 50M (Ray Data spilling), reporting peak memory instead.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from _common import HERE, report, side_venv

KEYS = 100_000
DAYS = 30
T0 = pd.Timestamp("2024-01-01").value // 1000  # µs
VIEWS = [("v_1d", 86_400), ("v_7d", 7 * 86_400), ("v_all", None)]
FEATURES = [f"f{i}" for i in range(10)]


def zipf_keys(rng: np.random.Generator, n: int) -> np.ndarray:
    ranks = np.arange(1, KEYS + 1, dtype=float)
    p = ranks ** -1.1
    p /= p.sum()
    perm = rng.permutation(KEYS)
    return perm[np.searchsorted(np.cumsum(p), rng.random(n))].astype(np.int64)


def generate(folder: str, entity_rows: int, feature_rows: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    span = DAYS * 86_400 * 1_000_000
    views = []
    per_view = feature_rows // len(VIEWS)
    for name, ttl in VIEWS:
        path = os.path.join(folder, f"{name}.parquet")
        writer = None
        for chunk in range(0, per_view, 2_000_000):
            n = min(2_000_000, per_view - chunk)
            keys = zipf_keys(rng, n)
            ts = T0 + rng.integers(0, span, n)
            keep = ~pd.DataFrame({"k": keys, "t": ts}).duplicated().to_numpy()
            cols = {"driver_id": keys[keep], "event_timestamp": pa.array(ts[keep], pa.timestamp("us")),
                    "created": pa.array(ts[keep] + rng.integers(1, 3_600_000_000, keep.sum()), pa.timestamp("us"))}
            cols |= {f: rng.random(keep.sum()) for f in FEATURES}
            t = pa.table(cols)
            writer = writer or pq.ParquetWriter(path, t.schema)
            writer.write_table(t, row_group_size=250_000)
        writer.close()
        views.append({"name": name, "path": path, "ttl_s": ttl, "features": FEATURES})
    entities = os.path.join(folder, "entities.parquet")
    writer = None
    for chunk in range(0, entity_rows, 2_000_000):
        n = min(2_000_000, entity_rows - chunk)
        t = pa.table({"row_id": np.arange(chunk, chunk + n), "driver_id": zipf_keys(rng, n),
                      "event_timestamp": pa.array(T0 + rng.integers(0, span + 86_400_000_000, n), pa.timestamp("us"))})
        writer = writer or pq.ParquetWriter(entities, t.schema)
        writer.write_table(t, row_group_size=250_000)
    writer.close()
    repo = {"entities": [{"name": "driver", "join_keys": ["driver_id"]}],
            "sources": [{"name": f"s_{v['name']}", "path": v["path"], "timestamp_field": "event_timestamp",
                         "created_timestamp_column": "created"} for v in views],
            "feature_views": [{"name": v["name"], "entities": ["driver"], "source": f"s_{v['name']}",
                               "ttl": f"{v['ttl_s']}s" if v["ttl_s"] else "0",
                               "features": [{"name": f, "dtype": "float"} for f in FEATURES]} for v in views]}
    with open(os.path.join(folder, "repo.yaml"), "w") as f:
        yaml.safe_dump(repo, f)
    return {"folder": folder, "entities": entities, "views": views, "repo": os.path.join(folder, "repo.yaml")}


def output_hash(path: str) -> tuple[str, int]:
    df = pd.read_parquet(path)
    cols = [c for c in df.columns if "__" in c]
    df = df.sort_values("row_id", kind="stable").reset_index(drop=True)
    return hashlib.sha256(pd.util.hash_pandas_object(df[["row_id"] + cols], index=False).values.tobytes()).hexdigest(), len(df)


def _tree_pss() -> int:
    """PSS in bytes of this process and all its descendants (from /proc; Linux only)."""
    parents: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parents[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    tree, frontier = {os.getpid()}, [os.getpid()]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p and c not in tree]
        tree.update(kids)
        frontier += kids
    total = 0
    for p in tree:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


class PeakMemory:
    """Peak PSS of this process and all its children (Ray's workers, raylet, object store)."""

    def __init__(self, interval: float = 0.5):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    def __enter__(self):
        def run():
            while not self._stop.is_set():
                self.peak = max(self.peak, _tree_pss())
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_raymlops(data: dict, home: str, out: str, runs: int) -> dict:
    """The first retrieval on a fresh local Ray (workers start, sources are hashed for lineage),
    then ``runs`` more on the warm Ray; peak memory over all of them."""
    from raymlops.core import runtime
    from raymlops.core.config import Settings
    from raymlops.features import FeatureStore

    settings = Settings.resolve(home=home, env={})
    settings.ensure_home()
    runtime.init(settings)
    fs = FeatureStore(data["repo"], settings=settings)
    fs.apply()
    refs = [f"{v['name']}:{f}" for v in data["views"] for f in v["features"]]
    times = []
    with PeakMemory() as mem:
        for _ in range(runs + 1):
            t0 = time.perf_counter()
            r = fs.get_historical_features(data["entities"], features=refs, out=out)
            times.append(round(time.perf_counter() - t0, 2))
    warm = sorted(times[1:])
    return {"first_run_s": times[0], "warm_runs_s": times[1:], "seconds": warm[len(warm) // 2] if warm else times[0],
            "rows": r["rows"], "join": r["join"], "peak_pss_mb": round(mem.peak / 2**20)}


def run_duckdb(data: dict, out: str, runs: int) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads TO {os.cpu_count()}")
    sel, joins = [], []
    for v in data["views"]:
        n = v["name"]
        joins.append(f"ASOF LEFT JOIN read_parquet('{v['path']}') {n} ON e.driver_id = {n}.driver_id AND e.event_timestamp >= {n}.event_timestamp")
        cond = f"{n}.event_timestamp >= e.event_timestamp - INTERVAL {v['ttl_s']} SECOND" if v["ttl_s"] else "TRUE"
        sel += [f"CASE WHEN {cond} THEN {n}.{f} END AS {n}__{f}" for f in v["features"]]
    q = f"SELECT e.row_id, e.driver_id, e.event_timestamp, {', '.join(sel)} FROM read_parquet('{data['entities']}') e {' '.join(joins)} ORDER BY e.row_id"
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        con.execute(f"COPY ({q}) TO '{out}' (FORMAT PARQUET)")
        times.append(round(time.perf_counter() - t0, 2))
    return {"runs_s": times, "seconds": sorted(times)[len(times) // 2]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0, help="1 = 1M x 5M; 10 = 10M x 50M")
    ap.add_argument("--no-feast", action="store_true")
    ap.add_argument("--folder", help="keep the generated data here (reused if present)")
    args = ap.parse_args()
    n_e, n_f = int(1_000_000 * args.scale), int(5_000_000 * args.scale)
    folder = args.folder or tempfile.mkdtemp(prefix="bench-pit-")
    os.makedirs(folder, exist_ok=True)
    t0 = time.perf_counter()
    data = generate(folder, n_e, n_f) if not os.path.exists(os.path.join(folder, "repo.yaml")) else json.load(open(os.path.join(folder, "data.json")))
    json.dump(data, open(os.path.join(folder, "data.json"), "w"))
    print(f"data in {folder} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    figures: dict = {"entity_rows": n_e, "feature_rows": n_f, "keys": KEYS, "views": len(VIEWS), "features_per_view": len(FEATURES)}
    big = args.scale > 2
    runs = 0 if big else 3  # the big run: one retrieval
    ours = run_raymlops(data, os.path.join(folder, "home"), os.path.join(folder, "ours.parquet"), runs)
    figures["raymlops"] = ours | dict(zip(("hash", "rows_out"), output_hash(os.path.join(folder, "ours.parquet")))) if not big else ours
    if big:
        import ray
        from ray._private.internal_api import memory_summary  # the object store's spill counters

        summary = memory_summary(ray.get_runtime_context().gcs_address, stats_only=True)
        figures["object_store"] = [line.strip() for line in summary.splitlines() if "Spilled" in line or "Restored" in line or "Objects consumed" in line]
    if not big:
        duck = run_duckdb(data, os.path.join(folder, "duckdb.parquet"), runs)
        figures["duckdb_asof"] = duck | dict(zip(("hash", "rows_out"), output_hash(os.path.join(folder, "duckdb.parquet"))))
        figures["ratio_vs_duckdb"] = round(ours["seconds"] / duck["seconds"], 2)
        figures["ratio_vs_duckdb_first_run"] = round(ours["first_run_s"] / duck["seconds"], 2)
        figures["identical_to_duckdb"] = figures["raymlops"]["hash"] == figures["duckdb_asof"]["hash"]
    if not args.no_feast and not big:
        py = side_venv("feast", "feast[duckdb]==0.67.0")
        if py is not None:
            spec = os.path.join(folder, "feast.json")
            json.dump({**data, "stores": ["duckdb", "dask"]}, open(spec, "w"))
            res = subprocess.run([str(py), str(HERE / "_feast_offline.py"), spec], capture_output=True, text=True)
            for line in res.stdout.splitlines():
                r = json.loads(line)
                r["identical"] = r.get("hash") == figures["raymlops"]["hash"]
                figures[f"feast_{r['store']}"] = r
            if res.returncode:
                figures["feast_error"] = res.stderr[-500:]
            dask = figures.get("feast_dask", {})
            if "seconds" in dask and "error" not in dask:
                figures["speedup_vs_feast_dask"] = round(dask["seconds"] / ours["seconds"], 2)
    report("bench_features_pit", figures)


if __name__ == "__main__":
    main()
