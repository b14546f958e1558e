"""The demo's labeling chapter: noisy crowd labels on the demo data, aggregated with a
little gold, beating majority vote, with the worst annotators named.

The breast-cancer rows get labels from 40 simulated annotators (Dirichlet confusion
matrices, 15% spammers, power-law activity, three to five labels per row) and
two SMEs; 2% of the rows have gold labels. Majority vote and Dawid-Skene with the gold
and the SMEs are compared with the true diagnosis; the annotators Dawid-Skene trusts
least are named next to their true accuracy. The aggregation is a recorded step, so its
labels reach the annotation file in the lineage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.config import Settings
from raymlops.data.ingest import load_sklearn_frame
from raymlops.labeling.simulate import DENSE, simulate_crowd
from raymlops.labeling.steps import aggregate

__all__ = ["chapter"]

DATASET = "breast_cancer"


def chapter(settings: Settings, say: Callable[[str], None] = print, *, seed: int = 0) -> dict[str, Any]:
    """Run the chapter; returns the accuracies, the worst annotators and the artifacts."""
    df = load_sklearn_frame(DATASET)
    classes = np.array(["malignant", "benign"])  # scikit-learn's target 0 / 1
    truth = df["target"].to_numpy()
    crowd = simulate_crowd(truth=truth, n_workers=40, n_classes=2, labels_per_task=DENSE, n_sme=2, sme_share=0.03, accuracy_range=(0.6, 0.9), seed=seed)
    ann = crowd.annotations.assign(label=classes[crowd.annotations["label"].to_numpy()])
    gold = crowd.gold.assign(label=classes[crowd.gold["label"].to_numpy()])
    home = settings.ensure_home() / "labels"
    home.mkdir(parents=True, exist_ok=True)
    ann_path, gold_path = home / "demo_annotations.csv", home / "demo_gold.csv"
    ann.to_csv(ann_path, index=False)
    gold.to_csv(gold_path, index=False)
    per_task = ann.groupby("task").size()
    say(
        f"{len(ann)} crowd labels of {len(df)} {DATASET} rows from {ann['worker'].nunique()} annotators "
        f"({int(crowd.spammers.sum())} of them spammers), {per_task.min()} to {per_task.max()} labels per row; "
        f"{len(gold)} rows have gold labels from SMEs ({', '.join(crowd.smes)})"
    )
    mv = aggregate(str(ann_path), method="mv", out=str(home / "demo_mv.parquet"), workers_out=str(home / "demo_mv_workers.parquet"), settings=settings)
    ds = aggregate(
        str(ann_path), method="ds", gold=str(gold_path), sme=crowd.smes,
        out=str(home / "demo_labels.parquet"), workers_out=str(home / "demo_workers.parquet"), settings=settings,
    )
    nongold = ~np.isin(np.arange(len(truth)), crowd.gold["task"].to_numpy())

    def acc(path: str) -> float:
        lab = pd.read_parquet(path).set_index("task")["label"].reindex(np.arange(len(truth)))
        return float((lab.to_numpy()[nongold] == classes[truth][nongold]).mean())

    acc_mv, acc_ds = acc(mv["out"]), acc(ds["out"])
    say(
        f"accuracy against the true diagnosis (rows without gold): majority vote {acc_mv:.3f}, "
        f"Dawid-Skene with gold + SME prior {acc_ds:.3f} ({ds['iterations']} EM iterations)"
    )
    workers = pd.read_parquet(ds["workers_out"])
    true_acc = {w: float(np.diag(c).mean()) for w, c in zip(crowd.workers, crowd.confusions)}
    worst = workers[workers["n_labels"] >= 5].sort_values("accuracy").head(5)
    rows = [
        {"annotator": w, "labels": int(n), "estimated_accuracy": float(a), "true_accuracy": true_acc[w], "spammer": bool(s)}
        for w, n, a, s in zip(worst["worker"], worst["n_labels"], worst["accuracy"], worst["spammer"])
    ]
    say("the annotators Dawid-Skene trusts least (true accuracy from the simulation):")
    say(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    say(f"next rows to send for another label: {', '.join(map(str, ds['needs_labels'][:8]))}")
    return {
        "annotations": int(len(ann)),
        "accuracy": {"majority_vote": acc_mv, "dawid_skene": acc_ds},
        "worst_annotators": rows,
        "needs_labels": ds["needs_labels"],
        "labels": ds["out"],
        "artifacts": ds["artifacts"],
        "annotations_path": str(ann_path),
    }
