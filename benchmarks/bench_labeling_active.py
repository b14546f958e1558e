"""Active learning: learning curves over 10 seeds on scikit-learn's bundled digits, and
the diverse strategy picking 1,000 rows of a 1M x 64 pool.

Curves: 30% of digits is the test set; the rest is the pool, with 20 labelled rows (2
per class) to start. Each round a logistic regression is fitted on the labelled rows,
scores the pool, and the strategy buys 10 labels (the true labels are the oracle),
until 300. Area under the curve = mean test accuracy over the rounds. Strategies:
margin, entropy, least confidence, diverse (on the standardised features) and random;
same seeds for all.

Scale: a 1M x 64 float32 pool with 10-class probabilities; ``select(..., "diverse", k=1000)``
timed in a fresh process, with that process's peak resident memory (the pool included).

Targets (issue 12): margin's area > random's over 10 seeds; diverse 1,000 of 1M x 64 in
<= 30 s and <= 2 GB.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from _common import measured, report

from raymlops.labeling import select

STRATEGIES = ["margin", "entropy", "least-confidence", "diverse", "random"]
SEEDS = range(10)

SCALE = r"""
import json, time
import numpy as np
from raymlops.labeling import select
rng = np.random.default_rng(0)
X = rng.normal(size=(1_000_000, 64)).astype(np.float32)
p = rng.dirichlet(np.full(10, 0.3), size=1_000_000)
t0 = time.perf_counter(); idx, s = select(p, k=1000, strategy="diverse", X=X, seed=0); dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "picked": int(len(set(idx.tolist())))}))
"""


def curve(strategy: str, seed: int, X: np.ndarray, y: np.ndarray, Xt: np.ndarray, yt: np.ndarray) -> list[float]:
    rng = np.random.default_rng(seed)
    labelled = np.concatenate([rng.choice(np.flatnonzero(y == c), 2, replace=False) for c in range(10)])
    accs = []
    while True:
        model = LogisticRegression(max_iter=300).fit(X[labelled], y[labelled])
        accs.append(float(model.score(Xt, yt)))
        if len(labelled) >= 300:
            return accs
        pool = np.setdiff1d(np.arange(len(X)), labelled)
        idx, _ = select(model.predict_proba(X[pool]), k=10, strategy=strategy, X=X[pool], seed=seed * 1000 + len(labelled))
        labelled = np.concatenate([labelled, pool[idx]])


def main() -> None:
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    areas = {s: [] for s in STRATEGIES}
    for seed in SEEDS:
        Xp, Xt, yp, yt = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
        for s in STRATEGIES:
            areas[s].append(float(np.mean(curve(s, seed, Xp, yp, Xt, yt))))
    table = {s: {"mean_area": round(float(np.mean(a)), 4), "sd": round(float(np.std(a)), 4)} for s, a in areas.items()}
    wins = int(sum(m > r for m, r in zip(areas["margin"], areas["random"])))
    scale = measured(sys.executable, SCALE)
    report(
        "labeling_active",
        {
            "dataset": "digits (bundled)", "seeds": len(SEEDS), "labels": "20 -> 300 in batches of 10",
            "area_under_learning_curve": table, "margin_beats_random_in_seeds": wins,
            "margin_minus_random": round(table["margin"]["mean_area"] - table["random"]["mean_area"], 4),
            "diverse_1000_of_1m_x_64": scale, "targets": {"seconds_max": 30, "peak_rss_mb_max": 2048},
        },
    )


if __name__ == "__main__":
    main()
