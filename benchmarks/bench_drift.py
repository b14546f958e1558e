"""Batch drift on 1M reference + 1M current rows x 12 columns (10 numeric, 2 categorical).

One run, three implementations of the default (Evidently) preset on the same in-memory
data (reference > 1,000 rows, so numeric columns are judged by the Wasserstein distance
over the reference's std, drift at >= 0.1, and categorical ones by the Jensen-Shannon
distance with the natural log, drift at >= 0.1):

* **baseline**: a straightforward scipy-per-column implementation, the way a data
  scientist writes it (``scipy.stats.wasserstein_distance``, ``np.std``,
  ``scipy.spatial.distance.jensenshannon`` on ``value_counts`` proportions), column after
  column;
* **raymlops exact**: :func:`raymlops.monitoring.batch.batch_drift` in exact mode (columns
  in parallel threads, one merge-sort pass per numeric column), equal to scipy;
* **raymlops sketch**: build both sides' profiles (DDSketch, 1% relative accuracy,
  columns in parallel threads) and judge the sketches; and the judging alone, which is
  what the live monitor pays per window (replicas build the sketches as they serve).

Verdicts are compared with the baseline's on every column whose statistic is not within
2% of its threshold. Targets (issue 6): sketch mode >= 20x faster than the baseline with
identical verdicts; exact mode at least as fast as the baseline.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from _common import report


def make_data(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ref, cur = {}, {}
    # shift in units of the std: below, near and above the 0.1 threshold, plus scale changes
    shifts = [0.0, 0.02, 0.05, 0.08, 0.12, 0.2, 0.5, 0.0, 0.0, 1.0]
    scales = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.3, 0.7, 1.0]
    for i, (m, s) in enumerate(zip(shifts, scales)):
        kind = i % 3
        if kind == 0:
            ref[f"n{i}"], cur[f"n{i}"] = rng.normal(0, 1, n), rng.normal(m, s, n)
        elif kind == 1:
            ref[f"n{i}"], cur[f"n{i}"] = rng.lognormal(0, 0.5, n), rng.lognormal(0, 0.5 * s, n) + m * 0.6
        else:
            ref[f"n{i}"], cur[f"n{i}"] = rng.exponential(2.0, n), rng.exponential(2.0 * s, n) + 2.0 * m
    cats = np.array([f"c{j}" for j in range(20)])
    p = rng.dirichlet(np.ones(20))
    q = p.copy()
    q[:5] *= 1.8
    q /= q.sum()
    ref["cat_same"], cur["cat_same"] = rng.choice(cats, n, p=p), rng.choice(cats, n, p=p)
    ref["cat_shift"], cur["cat_shift"] = rng.choice(cats, n, p=p), rng.choice(cats, n, p=q)
    return pd.DataFrame(ref), pd.DataFrame(cur)


def baseline(ref: pd.DataFrame, cur: pd.DataFrame) -> dict[str, tuple[str, float, bool]]:
    """The preset's tests, scipy per column."""
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import wasserstein_distance

    out = {}
    for col in ref.columns:
        if pd.api.types.is_numeric_dtype(ref[col]) and pd.concat([ref[col], cur[col]]).nunique() > 5:
            stat = wasserstein_distance(ref[col], cur[col]) / max(float(np.std(ref[col])), 0.001)
            out[col] = ("wasserstein_normed", stat, stat >= 0.1)
        else:
            keys = sorted(set(ref[col].unique()) | set(cur[col].unique()))
            p = ref[col].value_counts(normalize=True).reindex(keys, fill_value=0).to_numpy()
            q = cur[col].value_counts(normalize=True).reindex(keys, fill_value=0).to_numpy()
            stat = float(jensenshannon(p, q))
            out[col] = ("jensenshannon_distance_ln", stat, stat >= 0.1)
    return out


def sketch_profiles(ref: pd.DataFrame, cur: pd.DataFrame, workers: int):
    from raymlops.sketches import Profile

    def one(side: pd.DataFrame, col: str):
        p = Profile()
        p.update(side[[col]])
        return p

    jobs = [(side, col) for side in (ref, cur) for col in ref.columns]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(lambda j: one(*j), jobs))
    prof_ref, prof_cur = Profile(), Profile()
    k = len(ref.columns)
    for p in parts[:k]:
        prof_ref = prof_ref.merge(p)
    for p in parts[k:]:
        prof_cur = prof_cur.merge(p)
    prof_ref.rows = prof_cur.rows = len(ref)
    return prof_ref, prof_cur


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs per implementation")
    args = ap.parse_args()

    from raymlops.monitoring.batch import batch_drift
    from raymlops.monitoring import judge

    ref, cur = make_data(args.rows)
    workers = 2

    def best(fn):
        times, res = [], None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            res = fn()
            times.append(time.perf_counter() - t0)
        return min(times), times, res

    t_base, runs_base, base = best(lambda: baseline(ref, cur))
    t_exact, runs_exact, exact = best(lambda: batch_drift(ref, cur, mode="exact", workers=workers)[0])
    t_sk, runs_sk, (prof_ref, prof_cur) = best(lambda: sketch_profiles(ref, cur, workers))
    t_judge, runs_judge, sk = best(lambda: judge(prof_ref, prof_cur))

    rows, agree, compared, exact_max_diff = [], 0, 0, 0.0
    for c in sk.columns:
        b_test, b_stat, b_drift = base[c.column]
        e = exact[c.column]
        exact_max_diff = max(exact_max_diff, abs(e.statistic - b_stat))
        near = bool(abs(b_stat - c.threshold) <= 0.02 * c.threshold)
        if not near:
            compared += 1
            agree += int(bool(c.drift) == bool(b_drift))
        rows.append({
            "column": c.column, "test": c.test, "baseline": round(b_stat, 5), "exact": round(e.statistic, 5),
            "sketch": round(c.statistic, 5), "bound": round(c.bound, 5), "drift_baseline": bool(b_drift),
            "drift_exact": e.drift, "drift_sketch": c.drift, "near_threshold": near,
        })  # fmt: skip
    t_sketch_total = t_sk + t_judge
    report(
        "bench_drift",
        {
            "rows": {"reference": len(ref), "current": len(cur), "columns": ref.shape[1]},
            "seconds": {
                "baseline_scipy": round(t_base, 3),
                "raymlops_exact": round(t_exact, 3),
                "raymlops_sketch_build_and_judge": round(t_sketch_total, 3),
                "raymlops_sketch_build": round(t_sk, 3),
                "raymlops_sketch_judge_only": round(t_judge, 4),
            },
            "runs": {"baseline": [round(x, 3) for x in runs_base], "exact": [round(x, 3) for x in runs_exact],
                     "sketch_build": [round(x, 3) for x in runs_sk], "judge": [round(x, 4) for x in runs_judge]},  # fmt: skip
            "speedup": {
                "exact_vs_baseline": round(t_base / t_exact, 2),
                "sketch_build_and_judge_vs_baseline": round(t_base / t_sketch_total, 2),
                "sketch_judge_only_vs_baseline": round(t_base / t_judge, 1),
            },
            "verdicts": {"compared": compared, "identical": agree, "exact_max_abs_diff_vs_scipy": exact_max_diff},
            "columns": rows,
            "targets_met": {
                "sketch_ge_20x_build_and_judge": t_base / t_sketch_total >= 20,
                "sketch_ge_20x_judge_only": t_base / t_judge >= 20,
                "identical_verdicts": agree == compared,
                "exact_at_least_as_fast": t_exact <= t_base,
            },
        },
    )


if __name__ == "__main__":
    main()
