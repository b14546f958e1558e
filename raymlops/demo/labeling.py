"""The demo's labeling chapter: noisy crowd labels on the demo data, aggregated by each
annotator's reliability with a little gold, beating majority vote, the worst annotators named.

The breast-cancer rows get labels from 40 simulated annotators (Dirichlet confusion
matrices, 15% spammers, power-law activity, three to five labels per row) and two SMEs;
2% of the rows have gold labels. Majority vote and Dawid-Skene with the gold and the
SMEs are compared with the true diagnosis; the annotators Dawid-Skene trusts least are
named next to their true accuracy, and the comparison is repeated on a few more
simulated crowds so one lucky draw does not carry the claim. The aggregation is a
recorded step (in process: a few thousand labels need no cluster), so its labels reach
the annotation file in the lineage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from raymlops.cli.render import table
from raymlops.core.config import Settings
from raymlops.data.ingest import load_sklearn_frame
from raymlops.demo.common import DATASET, TARGET
from raymlops.labeling.aggregate import DawidSkene, MajorityVote
from raymlops.labeling.simulate import DENSE, Crowd, simulate_crowd
from raymlops.labeling.steps import aggregate
from raymlops.metadata import MetadataAPI

__all__ = ["labeling_chapter"]

CLASSES = np.array(["malignant", "benign"])  # scikit-learn's breast-cancer target 0 / 1
MORE_CROWDS = 7  # further seeded crowds the comparison is repeated on


def _crowd(truth: np.ndarray, seed: int) -> Crowd:
    return simulate_crowd(
        truth=truth, n_workers=40, n_classes=2, labels_per_task=DENSE, n_sme=2, sme_share=0.03, accuracy_range=(0.6, 0.9), seed=seed
    )


def _gain(truth: np.ndarray, seed: int) -> float:
    """Dawid-Skene's accuracy minus majority vote's on one more crowd (rows without gold)."""
    crowd = _crowd(truth, seed)
    ann, gold = _named(crowd)
    nongold = ~np.isin(np.arange(len(truth)), gold["task"].to_numpy())
    acc = []
    for model in (MajorityVote().fit(ann), DawidSkene().fit(ann, gold, sme=crowd.smes)):
        tasks = model.result().tasks.set_index("task")["label"].reindex(np.arange(len(truth)))
        acc.append(float((tasks.to_numpy()[nongold] == CLASSES[truth][nongold]).mean()))
    return acc[1] - acc[0]


def _named(crowd: Crowd) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The crowd's annotations and gold with the class names annotators would type."""
    ann = crowd.annotations.assign(label=CLASSES[crowd.annotations["label"].to_numpy()])
    return ann, crowd.gold.assign(label=CLASSES[crowd.gold["label"].to_numpy()])


def labeling_chapter(
    settings: Settings, say: Callable[[str], None] = print, *, store: MetadataAPI | None = None, seed: int = 0
) -> dict[str, Any]:
    """Run the chapter; returns the accuracies, the worst annotators and the artifacts."""
    df = load_sklearn_frame(DATASET)
    truth = df[TARGET].to_numpy()
    crowd = _crowd(truth, seed)
    ann, gold = _named(crowd)
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
    common = {"settings": settings, "store": store}
    mv = aggregate(str(ann_path), method="mv", out=str(home / "demo_mv.parquet"), workers_out=str(home / "demo_mv_workers.parquet"), **common)
    ds = aggregate(
        str(ann_path), method="ds", gold=str(gold_path), sme=crowd.smes,
        out=str(home / "demo_labels.parquet"), workers_out=str(home / "demo_workers.parquet"), **common,
    )
    nongold = ~np.isin(np.arange(len(truth)), crowd.gold["task"].to_numpy())

    def accuracy(path: str) -> float:
        lab = pd.read_parquet(path).set_index("task")["label"].reindex(np.arange(len(truth)))
        return float((lab.to_numpy()[nongold] == CLASSES[truth][nongold]).mean())

    acc_mv, acc_ds = accuracy(mv["out"]), accuracy(ds["out"])
    say(
        f"accuracy against the true diagnosis (rows without gold): majority vote {acc_mv:.3f}, "
        f"Dawid-Skene with gold + SME prior {acc_ds:.3f} ({ds['iterations']} EM iterations)"
    )
    gains = [_gain(truth, seed + i) for i in range(1, MORE_CROWDS + 1)]
    say(
        f"on {MORE_CROWDS} more simulated crowds Dawid-Skene is ahead of majority vote on {sum(g > 0 for g in gains)}, "
        f"by {100 * float(np.mean(gains)):+.1f} points on average (from {100 * min(gains):+.1f} to {100 * max(gains):+.1f})"
    )
    workers = pd.read_parquet(ds["workers_out"])
    true_acc = {w: float(np.diag(c).mean()) for w, c in zip(crowd.workers, crowd.confusions)}
    spammers = set(crowd.workers[crowd.spammers])
    worst = workers[workers["n_labels"] >= 5].sort_values("accuracy").head(5)
    rows = [
        {"annotator": w, "labels": int(n), "estimated_accuracy": float(a), "true_accuracy": true_acc[w], "flagged_spammer": bool(s)}
        for w, n, a, s in zip(worst["worker"], worst["n_labels"], worst["accuracy"], worst["spammer"])
    ]
    say("the annotators Dawid-Skene trusts least (true accuracy from the simulation):")
    say(table(rows, ["annotator", "labels", "estimated_accuracy", "true_accuracy", "flagged_spammer"]))
    named = [r["annotator"] for r in rows if r["annotator"] in spammers]
    say(f"{len(named)} of these {len(rows)} are the simulation's spammers: {', '.join(named) or 'none'}")
    say(f"next rows to send for another label: {', '.join(map(str, ds['needs_labels'][:8]))}")
    return {
        "annotations": int(len(ann)),
        "accuracy": {"majority_vote": acc_mv, "dawid_skene": acc_ds},
        "gains_on_more_crowds": gains,
        "worst_annotators": rows,
        "spammers_named": named,
        "needs_labels": ds["needs_labels"],
        "labels": ds["out"],
        "artifacts": ds["artifacts"],
        "annotations_path": str(ann_path),
    }
