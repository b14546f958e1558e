"""``raymlops labels aggregate``: crowd labels -> one label per task, and worker reliability.

Example:
    >>> import tempfile, os, pandas as pd
    >>> from raymlops.core.config import Settings
    >>> d = tempfile.mkdtemp()
    >>> pd.DataFrame({"task": [1, 1, 2, 2], "worker": ["a", "b", "a", "b"], "label": [0, 0, 1, 0]}).to_csv(f"{d}/ann.csv", index=False)
    >>> out = aggregate(f"{d}/ann.csv", method="mv", out=f"{d}/labels.parquet", settings=Settings.resolve(home=d, env={}))
    >>> out["tasks"], out["classes"], pd.read_parquet(f"{d}/labels.parquet")["label"].tolist()
    (2, [0, 1], [0, 0])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pandas as pd

from raymlops.core import runtime
from raymlops.core.config import Settings
from raymlops.data.sources import read_dataset
from raymlops.labeling.aggregate import AggregateResult, make_aggregator
from raymlops.labeling.annotations import Annotations
from raymlops.labeling.io import read_table, write_parquet
from raymlops.labeling.ray_ops import fit_dawid_skene_dataset
from raymlops.labeling.record import output_artifact, record_step, source_artifact
from raymlops.metadata import MetadataAPI, connect

__all__ = ["aggregate", "labels_frame"]


def labels_frame(res: AggregateResult, task_col: str = "task") -> pd.DataFrame:
    """The LABELS table: task, label, confidence, n_labels, agreement, gold, proba_<class>..."""
    df = res.tasks.copy()
    return df.rename(columns={"task": task_col}) if task_col != "task" else df


def aggregate(
    annotations: Any,
    *,
    method: str = "ds",
    gold: Any = None,
    sme: Sequence[str] = (),
    task_col: str = "task",
    worker_col: str = "worker",
    label_col: str = "label",
    out: str | None = None,
    workers_out: str | None = None,
    queue: int = 20,
    distributed: bool = False,
    params: dict[str, Any] | None = None,
    settings: Settings | None = None,
    store: MetadataAPI | None = None,
) -> dict[str, Any]:
    """Aggregate a long annotation table; write LABELS (and WORKERS) Parquet; record lineage.

    Args:
        annotations: path, URI or DataFrame of ``task, worker, label`` rows.
        method: ``ds``, ``wawa`` or ``mv``.
        gold: path or DataFrame of ``task, label`` gold rows (same column names).
        sme: worker ids of subject-matter experts (a strong reliability prior for ``ds``).
        out, workers_out: where the tables go (default under ``$RAYMLOPS_HOME/labels``).
        queue: how many tasks to list in ``needs_labels``.
        distributed: fit Dawid-Skene on Ray Data shards (``ray_ops``) instead of in process.
        params: extra keyword arguments of the aggregator.

    Raises:
        AnnotationsError, GoldError, InvalidInputError: unusable input (exit code 2).
    """
    settings = settings or Settings.resolve()
    store = store or connect(settings)
    agg = make_aggregator(method, **(params or {}))
    gold_df = read_table(gold) if gold is not None else None
    if distributed and method == "ds":

        runtime.init(settings)
        ds, _ = read_dataset(annotations)
        fit_dawid_skene_dataset(ds, agg, gold=gold_df, sme=sme, task_col=task_col, worker_col=worker_col, label_col=label_col)  # type: ignore[arg-type]
    else:
        ann = Annotations.from_frame(read_table(annotations), task_col=task_col, worker_col=worker_col, label_col=label_col)
        agg.fit(ann, gold_df, sme=sme)
    res = agg.result()
    home = settings.ensure_home() / "labels"
    stem = os.path.splitext(os.path.basename(str(annotations)))[0] if not isinstance(annotations, pd.DataFrame) else "annotations"
    out = write_parquet(labels_frame(res, task_col), out or str(home / f"{stem}-{method}-labels.parquet"))
    workers_df = res.workers.rename(columns={"worker": worker_col}) if worker_col != "worker" else res.workers
    workers_out = write_parquet(workers_df, workers_out or str(home / f"{stem}-{method}-workers.parquet"))
    inputs = {"annotations": source_artifact(store, annotations, name="annotations")}
    if gold is not None:
        inputs["gold"] = source_artifact(store, gold, name="gold")
    summary = res.to_dict(queue=queue)
    props = {"method": method, "classes": summary["classes"], "gold": summary["gold"], "iterations": summary["iterations"]}
    arts = record_step(
        store,
        "AggregateLabels",
        name=f"aggregate ({method})",
        inputs=inputs,
        outputs={
            "labels": output_artifact(out, name="labels", df=res.tasks, **props),
            "workers": output_artifact(workers_out, name="workers", df=res.workers.drop(columns=["confusion"]), spammers=summary["spammers"]),
        },
        properties={"method": method, "sme": list(map(str, sme)), "distributed": distributed},
    )
    worst = res.worst_workers(5, min_labels=5)
    return {
        **summary,
        "out": out,
        "workers_out": workers_out,
        "artifacts": {k: a.id for k, a in arts.items()},
        "worst_workers": [
            {"worker": w, "accuracy": float(a), "n_labels": int(n), "spammer": bool(s)}
            for w, a, n, s in zip(worst["worker"], worst["accuracy"], worst["n_labels"], worst["spammer"])
        ],
    }
