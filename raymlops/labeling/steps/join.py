"""Labels joined to their features: the table ``raymlops train`` reads (with ``--weight-col``).

``weights="hard"`` gives one row per task with the aggregated label and its confidence
as the weight; ``weights="soft"`` gives one row per task and class with the class
posterior as the weight (soft targets as weighted rows; train with ``--key`` on the
task column so a task's rows stay in one split). Rows without a label are left out.

Example:
    >>> import pandas as pd
    >>> data = pd.DataFrame({"task": [1, 2], "x": [0.5, 1.5]})
    >>> labels = pd.DataFrame({"task": [1, 2], "label": ["a", "b"], "confidence": [0.9, 0.6], "proba_a": [0.9, 0.4], "proba_b": [0.1, 0.6]})
    >>> training_table(data, labels, key="task", weights="soft").to_dict("records")[:2]
    [{'task': 1, 'x': 0.5, 'label': 'a', 'weight': 0.9}, {'task': 1, 'x': 0.5, 'label': 'b', 'weight': 0.1}]
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.labeling.io import read_table, write_parquet
from raymlops.labeling.record import output_artifact, record_step, source_artifact
from raymlops.metadata import MetadataAPI, connect

__all__ = ["join_labels", "training_table", "WEIGHT_COLUMN"]

WEIGHT_COLUMN = "weight"


def training_table(data: pd.DataFrame, labels: pd.DataFrame, *, key: str, target: str = "label", weights: str = "hard") -> pd.DataFrame:
    """``data`` with the labels of ``labels`` (joined on ``key``) and a ``weight`` column."""
    for name, df in (("data", data), ("labels", labels)):
        if key not in df.columns:
            raise InvalidInputError(f"key column {key!r} is not in the {name} (columns: {', '.join(map(str, df.columns))})")
    if target in data.columns:
        data = data.drop(columns=[target])
    if weights == "hard":
        lab = labels[[key, "label", "confidence"]].rename(columns={"label": target, "confidence": WEIGHT_COLUMN})
    elif weights == "soft":
        proba = [c for c in labels.columns if str(c).startswith("proba_")]
        if not proba:
            raise InvalidInputError("soft weights need proba_<class> columns in the labels")
        lab = labels.melt(id_vars=[key], value_vars=proba, var_name=target, value_name=WEIGHT_COLUMN)
        lab[target] = lab[target].str.slice(len("proba_"))
        dtype = labels["label"].dtype if "label" in labels.columns else None
        if dtype is not None and pd.api.types.is_integer_dtype(dtype):
            lab[target] = lab[target].astype(dtype)
        lab = lab[lab[WEIGHT_COLUMN] > 0].sort_values([key, target], kind="stable")
    else:
        raise InvalidInputError(f"weights={weights!r}: use hard or soft")
    lab = lab.dropna(subset=[target])
    return data.merge(lab, on=key, how="inner", validate="one_to_many").reset_index(drop=True)


def join_labels(
    data: Any,
    labels: Any,
    *,
    key: str,
    out: str,
    target: str = "label",
    weights: str = "hard",
    settings: Settings | None = None,
    store: MetadataAPI | None = None,
) -> dict[str, Any]:
    """Write :func:`training_table` of ``data`` and ``labels`` to ``out``, recorded with both as inputs."""
    settings = settings or Settings.resolve()
    store = store or connect(settings)
    df = training_table(read_table(data), read_table(labels), key=key, target=target, weights=weights)
    path = write_parquet(df, out)
    arts = record_step(
        store, "JoinLabels", name=f"join labels ({weights})",
        inputs={"data": source_artifact(store, data, name="data"), "labels": source_artifact(store, labels, name="labels")},
        outputs={"training": output_artifact(path, name=os.path.basename(path), df=df, weights=weights, target=target)},
    )
    return {"rows": int(len(df)), "out": path, "weight_col": WEIGHT_COLUMN, "target": target, "artifacts": {k: a.id for k, a in arts.items()}}
