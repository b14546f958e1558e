"""Aggregation accuracy on simulated annotators with known truth, against crowd-kit.

Crowds (issue 12): seeded Dirichlet confusion matrices (worker accuracy 0.55-0.9),
15% spammers, power-law activity, 2% gold, 3 SMEs at 0.97 labelling 1% of the tasks
each. Two regimes: SPARSE (most tasks have 3 labels or fewer: 1-5 labels, 75% <= 3) and
DENSE (3-5 labels). 10,000 tasks, 4 classes, 1,000 workers (a long tail of workers with
few labels), 5 seeds each.

Baseline in the same run: crowd-kit 1.4.2 (its own virtualenv) MajorityVote,
DawidSkene, and DawidSkene(true_labels=gold). Accuracy is measured on the tasks
without gold. Worker confusion MAE: mean absolute error of the estimated confusion
matrices against the simulated ones, over workers with at least 5 labels.

Targets: DS accuracy >= crowd-kit DS at 0 gold; >= crowd-kit DS(true_labels=gold) + 1
point with gold and SMEs in the sparse regime; confusion MAE lower than crowd-kit's.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from _common import report, side_venv
from labeling_fixtures import CROWDKIT_REQ

from raymlops.labeling import DawidSkene, MajorityVote
from raymlops.labeling.simulate import DENSE, SPARSE, simulate_crowd

SEEDS = range(5)
PEER = r"""
import json, sys, time
import numpy as np, pandas as pd
from crowdkit.aggregation import DawidSkene, MajorityVote
df = pd.read_csv(sys.argv[1]); gold = pd.read_csv(sys.argv[2]).set_index("task")["label"]
out = {}
t0 = time.perf_counter(); out["mv"] = MajorityVote().fit_predict(df).to_dict(); out["mv_s"] = time.perf_counter() - t0
t0 = time.perf_counter(); ds = DawidSkene(n_iter=100).fit(df); out["ds_s"] = time.perf_counter() - t0
out["ds"] = ds.labels_.to_dict()
err = ds.errors_
out["ds_conf"] = {w: [[float(err.loc[(w, o), t]) if (w, o) in err.index else 0.0 for o in sorted(err.columns)] for t in sorted(err.columns)] for w in err.index.get_level_values(0).unique()}
out["ds_gold"] = DawidSkene(n_iter=100).fit(df, true_labels=gold).labels_.to_dict()
print(json.dumps(out))
"""


def accuracy(pred: dict | pd.Series, truth: np.ndarray, keep: np.ndarray) -> float:
    s = pd.Series(pred)
    s.index = s.index.astype(int)
    p = s.reindex(np.arange(len(truth))).to_numpy()
    return float((p[keep] == truth[keep]).mean())


def mae(conf: dict, crowd, min_labels: int = 5) -> float:
    n = crowd.annotations["worker"].value_counts()
    idx = {w: i for i, w in enumerate(crowd.workers)}
    errs = [np.abs(np.array(c) - crowd.confusions[idx[w]]).mean() for w, c in conf.items() if n.get(w, 0) >= min_labels]
    return float(np.mean(errs))


def one(regime: str, seed: int, py) -> dict:
    lpt = SPARSE if regime == "sparse" else DENSE
    c = simulate_crowd(n_tasks=10_000, n_workers=1_000, n_classes=4, labels_per_task=lpt, seed=seed)
    truth = c.truth.to_numpy()
    keep = ~np.isin(np.arange(len(truth)), c.gold["task"].to_numpy())
    mv = MajorityVote().fit(c.annotations).result()
    ds0 = DawidSkene().fit(c.annotations).result()
    dsg = DawidSkene().fit(c.annotations, c.gold, sme=c.smes).result()
    lab = lambda r: dict(zip(r.tasks["task"], r.tasks["label"]))  # noqa: E731
    conf = lambda r: dict(zip(r.workers["worker"], r.workers["confusion"]))  # noqa: E731
    row = {
        "regime": regime, "seed": seed, "labels": len(c.annotations),
        "share_tasks_le3": float((c.annotations.groupby("task").size() <= 3).mean()),
        "ours_mv": accuracy(lab(mv), truth, keep), "ours_ds": accuracy(lab(ds0), truth, keep), "ours_ds_gold_sme": accuracy(lab(dsg), truth, keep),
        "ours_mae": mae(conf(ds0), c), "ours_mae_gold_sme": mae(conf(dsg), c),
    }
    if py is not None:
        tmp = Path(tempfile.mkdtemp())
        c.annotations.to_csv(tmp / "a.csv", index=False)
        c.gold.to_csv(tmp / "g.csv", index=False)
        import subprocess

        res = subprocess.run([str(py), "-c", PEER, str(tmp / "a.csv"), str(tmp / "g.csv")], capture_output=True, text=True)
        ck = json.loads(res.stdout.strip().splitlines()[-1])
        row.update(ck_mv=accuracy(ck["mv"], truth, keep), ck_ds=accuracy(ck["ds"], truth, keep), ck_ds_gold=accuracy(ck["ds_gold"], truth, keep), ck_mae=mae(ck["ds_conf"], c))
    return row


def main() -> None:
    py = side_venv("crowdkit", CROWDKIT_REQ)
    rows = [one(regime, seed, py) for regime in ("sparse", "dense") for seed in SEEDS]
    df = pd.DataFrame(rows)
    out = {}
    for regime, g in df.groupby("regime"):
        m = g.mean(numeric_only=True)
        fig = {k: round(float(v), 4) for k, v in m.items() if k != "seed"}
        if "ck_ds" in g:
            fig["ds_minus_crowdkit_ds_pp"] = round(100 * float((g["ours_ds"] - g["ck_ds"]).mean()), 2)
            fig["ds_gold_sme_minus_crowdkit_ds_true_labels_pp"] = round(100 * float((g["ours_ds_gold_sme"] - g["ck_ds_gold"]).mean()), 2)
            fig["worst_seed_gold_gain_pp"] = round(100 * float((g["ours_ds_gold_sme"] - g["ck_ds_gold"]).min()), 2)
            fig["confusion_mae_ratio_ours_over_crowdkit"] = round(float(m["ours_mae"] / m["ck_mae"]), 3)
        out[regime] = fig
    report("labeling_aggregation", {"seeds": len(SEEDS), "tasks": 10_000, "workers": 1_000, "classes": 4, "by_regime": out, "per_seed": json.loads(df.round(4).to_json(orient="records"))})


if __name__ == "__main__":
    main()
