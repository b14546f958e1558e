"""``labels``: crowd labels aggregated by annotator reliability, joined onto the dataset as its target.

When a dataset's labels come from several non-expert annotators, this step sits between
``merge`` and ``validate``: it aggregates the annotation table (``task, worker, label``,
column names configurable) with :mod:`raymlops.labeling` (Dawid-Skene by default, gold
tasks from SMEs and SME workers with a strong reliability prior), writes one label per
task and the workers' reliability, and joins the labels onto the dataset by ``key`` as
the ``target`` column. Rows whose label's posterior is below ``min_confidence`` and rows
nobody labelled are left out and counted. The annotation and gold files are hashed by
content, so new labels re-run this step and everything after it, and unchanged ones hit
the cache.

Example:
    >>> import pandas as pd
    >>> data = pd.DataFrame({"id": [1, 2, 3], "x": [0.1, 0.2, 0.3]})
    >>> ann = pd.DataFrame({"task": [1, 1, 1, 2, 2, 2], "worker": list("abcabc"), "label": [1, 1, 0, 0, 0, 0]})
    >>> out, info, workers = labelled(data, ann, key="id", target="y", method="mv")
    >>> out.to_dict("records"), info["unlabelled_rows"]
    ([{'id': 1, 'x': 0.1, 'y': 1}, {'id': 2, 'x': 0.2, 'y': 0}], 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from raymlops.core.errors import InvalidInputError
from raymlops.labeling import Annotations, make_aggregator
from raymlops.labeling.io import read_table
from raymlops.pipelines.step import ArtifactRef, StepContext, step
from raymlops.pipelines.steps._data import read_frame

__all__ = ["labelled", "labels"]


def labelled(
    data: pd.DataFrame,
    annotations: pd.DataFrame,
    *,
    key: str,
    target: str,
    gold: pd.DataFrame | None = None,
    method: str = "ds",
    sme: Sequence[str] = (),
    task_col: str = "task",
    worker_col: str = "worker",
    label_col: str = "label",
    min_confidence: float = 0.0,
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """``data`` with the aggregated label of each row's task as ``target``, a summary, and the workers' reliability."""
    if key not in data.columns:
        raise InvalidInputError(f"labels: the dataset has no key column {key!r} (columns: {', '.join(map(str, data.columns))}); set label_key")
    if not 0.0 <= min_confidence <= 1.0:
        raise InvalidInputError(f"labels: min_confidence={min_confidence} must be within [0, 1]")
    agg = make_aggregator(method)
    ann = Annotations.from_frame(annotations, task_col=task_col, worker_col=worker_col, label_col=label_col)
    agg.fit(ann, gold, sme=sme)
    res = agg.result()
    tasks = res.tasks[["task", "label", "confidence"]]
    confident = tasks[tasks["confidence"] >= min_confidence]
    lab = confident[["task", "label"]].rename(columns={"task": key, "label": target})
    base = data.drop(columns=[target]) if target in data.columns else data
    if not lab.empty and base[key].dtype != lab[key].dtype:
        try:
            lab[key] = lab[key].astype(base[key].dtype)
        except (TypeError, ValueError):
            raise InvalidInputError(f"labels: the annotations' tasks ({lab[key].dtype}) do not match the dataset's {key!r} ({base[key].dtype})") from None
    out = base.merge(lab, on=key, how="inner", validate="many_to_one")
    summary = res.to_dict(queue=0)
    info = {
        "method": method,
        "tasks": int(len(tasks)),
        "classes": summary["classes"],
        "spammers": summary["spammers"],
        "gold": summary["gold"],
        "rows": int(len(out)),
        "low_confidence_tasks": int(len(tasks) - len(confident)),
        "unlabelled_rows": int(len(base) - len(out)),
    }
    workers = res.workers.drop(columns=["confusion"], errors="ignore")
    return out.reset_index(drop=True), info, workers


@step(
    inputs=["dataset"],
    outputs={"labelled": "Dataset", "workers": "Dataset"},
    files=["annotations", "gold"],
    resources={"num_cpus": 0.5},
    packages=["pyarrow", "pandas", "numpy", "scipy"],
)
def labels(
    ctx: StepContext, dataset: ArtifactRef, *, annotations: str, target: str, key: str, gold: list[str] = (),
    method: str = "ds", sme: list[str] = (), task_col: str = "task", worker_col: str = "worker", label_col: str = "label",
    min_confidence: float = 0.0,
) -> dict:  # fmt: skip
    """Aggregate ``annotations`` (and ``gold``) and join the labels onto ``dataset`` by ``key``."""
    gold_df = pd.concat([read_table(g) for g in gold], ignore_index=True) if gold else None
    out, info, workers = labelled(
        read_frame(dataset), read_table(annotations), key=key, target=target, gold=gold_df, method=method, sme=sme,
        task_col=task_col, worker_col=worker_col, label_col=label_col, min_confidence=min_confidence,
    )  # fmt: skip
    if out.empty:
        raise InvalidInputError(f"labels: no row of the dataset has a label (its {key!r} values match no annotated task above min_confidence={min_confidence})")
    out.to_parquet(ctx.output("labelled") / "part-0.parquet", index=False)
    workers.to_parquet(ctx.output("workers") / "part-0.parquet", index=False)
    return info
