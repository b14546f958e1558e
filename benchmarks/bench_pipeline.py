"""Validate + profile on Ray Data against a straightforward single-process pandas version.

Data: generated Parquet, 20 columns (12 float, 4 int, 3 categorical, 1 label), files of
500k rows, about 0.5% of rows with a planted anomaly (out of range, NaN/inf, null, unseen
category). Both sides run the same checks (type, nulls, range, NaN/inf, domain, label
classes), quarantine the failing rows with their reasons to a Parquet file, and profile
the valid rows (count, nulls, min, max, mean, std, 20-bin histogram, quantiles, top
categories). No key column (duplicate keys need input order; see RESULTS.md).

raymlops is timed on a warm local Ray (started once, as a Ray user's cluster is); the
pandas baseline reads all files into one DataFrame and checks it column by column. Each
side runs three times, interleaved; the best run of each is compared.

Memory: peak proportional set size (PSS, shared object-store pages counted once) of the
driver and every Ray process, sampled every 0.2 s, for 1M and for 10M rows, each in a
fresh process.

Targets (issue 3): throughput >= 2x the pandas baseline on this 2-core machine; peak
memory at 10M rows <= 1.5x that at 1M (streaming).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pandas as pd

from _common import report

N_FLOAT, N_INT, CATS = 12, 4, ("red", "green", "blue", "black")
FILE_ROWS = 500_000


def schema_dict() -> dict:
    cols = [{"name": f"f{i}", "type": "float", "nullable": True, "min": -10.0, "max": 10.0} for i in range(N_FLOAT)]
    cols += [{"name": f"i{i}", "type": "int", "nullable": False, "min": 0, "max": 1000} for i in range(N_INT)]
    cols += [{"name": f"c{i}", "type": "string", "nullable": False, "domain": list(CATS)} for i in range(3)]
    cols.append({"name": "label", "type": "string", "nullable": False})
    return {"columns": cols, "label": {"column": "label", "classes": {"no": {"definition": ""}, "yes": {"definition": ""}}}}


def generate(folder: str, n_rows: int, seed: int = 0) -> None:
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    for k, start in enumerate(range(0, n_rows, FILE_ROWS)):
        n = min(FILE_ROWS, n_rows - start)
        d = {f"f{i}": rng.normal(0, 2, n) for i in range(N_FLOAT)}
        d.update({f"i{i}": rng.integers(0, 1000, n) for i in range(N_INT)})
        d.update({f"c{i}": rng.choice(CATS, n) for i in range(3)})
        d["label"] = rng.choice(["no", "yes"], n)
        df = pd.DataFrame(d)
        bad = rng.choice(n, size=n // 200, replace=False)
        q = len(bad) // 4
        df.loc[bad[:q], "f0"] = 99.0  # out of range
        df.loc[bad[q : 2 * q], "f1"] = np.inf  # inf
        df["c0"] = df["c0"].astype(object)
        df.loc[bad[2 * q : 3 * q], "c0"] = "purple"  # unseen category
        df.loc[bad[3 * q :], "label"] = "maybe"  # unseen label
        df.to_parquet(os.path.join(folder, f"part-{k:04d}.parquet"), index=False)


# ---------------------------------------------------------------------------- pandas baseline


def pandas_validate_profile(folder: str, quarantine: str) -> dict:
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".parquet"))
    df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    sch = schema_dict()
    fails = {}
    for col in sch["columns"]:
        s = df[col["name"]]
        name = col["name"]
        if col["type"] in ("float", "int"):
            num = pd.to_numeric(s, errors="coerce")
            fails[f"{name}: wrong_type"] = num.isna() & s.notna()
            if not col["nullable"]:
                fails[f"{name}: null_not_allowed"] = s.isna()
            if col["type"] == "float":
                fails[f"{name}: nan_or_inf"] = np.isinf(num)
            fails[f"{name}: out_of_range"] = (num < col["min"]) | (num > col["max"])
        else:
            if not col["nullable"]:
                fails[f"{name}: null_not_allowed"] = s.isna()
            domain = col.get("domain") or list(sch["label"]["classes"])
            fails[f"{name}: unseen_category"] = s.notna() & ~s.isin(domain)
    bad = np.zeros(len(df), dtype=bool)
    for m in fails.values():
        bad |= m.to_numpy()
    q = df[bad].copy()
    q["__reasons"] = ["; ".join(k for k, m in fails.items() if m.iloc[i]) for i in np.flatnonzero(bad)]
    q.to_parquet(quarantine, index=False)
    valid = df[~bad]
    profile = {}
    for col in valid.columns:
        s = valid[col]
        if s.dtype.kind in "fi":
            profile[col] = {
                "count": int(s.count()),
                "nulls": int(s.isna().sum()),
                "min": float(s.min()),
                "max": float(s.max()),
                "mean": float(s.mean()),
                "std": float(s.std(ddof=0)),
                "hist": np.histogram(s.dropna(), bins=20, range=(-10, 10) if col.startswith("f") else (0, 1000))[0].tolist(),
                "quantiles": s.quantile([0.01, 0.5, 0.99]).tolist(),
            }
        else:
            profile[col] = {"count": int(s.count()), "nulls": int(s.isna().sum()), "top": s.value_counts().head(5).to_dict()}
    return {"rows_in": len(df), "rows_quarantined": int(bad.sum()), "profile_columns": len(profile)}


# ---------------------------------------------------------------------------- raymlops


def raymlops_validate_profile(folder: str, quarantine: str) -> dict:
    from raymlops.data.ray_ops import validate_dataset
    from raymlops.data.schema import Schema
    from raymlops.data.sources import read_dataset

    ds, _ = read_dataset(folder)
    out = validate_dataset(ds, Schema.from_dict(schema_dict()), quarantine_path=quarantine)
    rep = out.report.to_dict()
    return {"rows_in": rep["rows_in"], "rows_quarantined": rep["rows_quarantined"], "profile_columns": len(out.profile.columns)}


def _init_ray(home: str) -> None:
    from raymlops.core import runtime
    from raymlops.core.config import Settings

    runtime.init(Settings.resolve(home=home, env={}))


# ---------------------------------------------------------------------------- memory


def _pss_of_ray_and_me() -> int:
    import psutil

    me = os.getpid()
    total = 0
    for p in psutil.process_iter(["pid", "cmdline", "ppid"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
            if p.info["pid"] == me or "ray" in cmd and "/work" in cmd or cmd.startswith("ray::"):
                total += p.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return total


def measure_memory(n_rows: int) -> dict:
    tmp = tempfile.mkdtemp(prefix="bench-mem-")
    try:
        generate(os.path.join(tmp, "data"), n_rows, seed=1)
        _init_ray(os.path.join(tmp, "home"))
        base = _pss_of_ray_and_me()
        peak = [base]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], _pss_of_ray_and_me())
                time.sleep(0.2)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        t0 = time.perf_counter()
        res = raymlops_validate_profile(os.path.join(tmp, "data"), os.path.join(tmp, "q.parquet"))
        dt = time.perf_counter() - t0
        stop.set()
        t.join()
        return {"rows": n_rows, "seconds": dt, "peak_pss_mb": peak[0] / 2**20, "idle_pss_mb": base / 2**20, **res}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--memory-only", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_only:
        print(json.dumps(measure_memory(args.memory_only)))
        return

    tmp = tempfile.mkdtemp(prefix="bench-pipe-")
    try:
        data = os.path.join(tmp, "data")
        t0 = time.perf_counter()
        generate(data, args.rows)
        gen_s = time.perf_counter() - t0

        _init_ray(os.path.join(tmp, "home"))
        warm = os.path.join(tmp, "warm")
        generate(warm, 100_000, seed=9)
        raymlops_validate_profile(warm, os.path.join(tmp, "qw.parquet"))  # workers started, imports done

        ours_runs, base_runs = [], []
        for _ in range(3):  # best of 3 on both sides
            t0 = time.perf_counter()
            ours = raymlops_validate_profile(data, os.path.join(tmp, "q1.parquet"))
            ours_runs.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            base = pandas_validate_profile(data, os.path.join(tmp, "q2.parquet"))
            base_runs.append(time.perf_counter() - t0)
        ours_s, base_s = min(ours_runs), min(base_runs)
        assert ours["rows_quarantined"] == base["rows_quarantined"], (ours, base)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    import ray

    ray.shutdown()

    mem = {}
    for n in (1_000_000, 10_000_000):
        res = subprocess.run(
            [sys.executable, __file__, "--memory-only", str(n)], capture_output=True, text=True, cwd=os.path.dirname(__file__)
        )
        if res.returncode != 0:
            raise SystemExit(res.stderr[-2000:])
        mem[n] = json.loads(res.stdout.strip().splitlines()[-1])

    report(
        "bench_pipeline",
        {
            "rows": args.rows,
            "columns": 20,
            "generate_s": round(gen_s, 1),
            "raymlops_s": round(ours_s, 2),
            "raymlops_runs_s": [round(x, 2) for x in ours_runs],
            "pandas_runs_s": [round(x, 2) for x in base_runs],
            "raymlops_rows_per_s": round(args.rows / ours_s),
            "pandas_s": round(base_s, 2),
            "pandas_rows_per_s": round(args.rows / base_s),
            "speedup_vs_pandas": round(base_s / ours_s, 2),
            "target_speedup": 2.0,
            "rows_quarantined": ours["rows_quarantined"],
            "peak_pss_mb_1m": round(mem[1_000_000]["peak_pss_mb"]),
            "peak_pss_mb_10m": round(mem[10_000_000]["peak_pss_mb"]),
            "memory_ratio_10m_vs_1m": round(mem[10_000_000]["peak_pss_mb"] / mem[1_000_000]["peak_pss_mb"], 2),
            "target_memory_ratio": 1.5,
            "seconds_1m": round(mem[1_000_000]["seconds"], 1),
            "seconds_10m": round(mem[10_000_000]["seconds"], 1),
        },
    )


if __name__ == "__main__":
    main()
