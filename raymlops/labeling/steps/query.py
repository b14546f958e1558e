"""``raymlops labels query``: score a pool with a registered model on Ray Data and pick
the rows to label next; export them as Label Studio tasks with the model's predictions.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from raymlops.core import runtime
from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.data.sources import read_dataset
from raymlops.labeling.active import select
from raymlops.labeling.io import read_table, write_parquet
from raymlops.labeling.label_studio import labeling_config, tasks_json
from raymlops.labeling.ray_ops import score_pool
from raymlops.labeling.record import output_artifact, record_step, source_artifact
from raymlops.metadata import MetadataAPI, connect
from raymlops.registry import ModelRegistry

__all__ = ["query"]

FORMATS = ("label-studio", "parquet")


def query(
    pool: Any,
    *,
    model: str,
    k: int,
    strategy: str = "margin",
    key: str | None = None,
    out: str | None = None,
    fmt: str = "label-studio",
    from_name: str = "label",
    to_name: str = "table",
    seed: int = 0,
    settings: Settings | None = None,
    store: MetadataAPI | None = None,
) -> dict[str, Any]:
    """Pick ``k`` rows of ``pool`` to label with ``strategy``; write them as Label Studio tasks.

    Raises:
        ModelNotFoundError: an unknown model reference.
        InvalidInputError: an unknown strategy or format, a missing key or feature column.
    """
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if k < 1:
        raise InvalidInputError(f"--k {k}: ask for at least one row")
    select(np.zeros((1, 2)), k=1, strategy=strategy if strategy != "diverse" else "margin")  # an unknown strategy fails before any work
    settings = settings or Settings.resolve()
    store = store or connect(settings)
    registry = ModelRegistry.connect(settings)
    record = registry.get(model)
    est = registry.load(model)
    columns = [c["name"] for c in (record.get("signature") or {}).get("inputs", [])] or None
    runtime.init(settings)
    ds, _ = read_dataset(pool)
    names = ds.schema().names
    if key is not None and key not in names:
        raise InvalidInputError(f"key column {key!r} is not in the pool (columns: {', '.join(names)})")
    missing = [c for c in columns or [] if c not in names]
    if missing:
        raise InvalidInputError(f"the pool has no column {missing[0]!r}, which model {model} needs; columns: {', '.join(names)}")

    keys, proba, emb = score_pool(ds, est, key=key, columns=columns, embed=strategy == "diverse")
    idx, scores = select(proba, k=k, strategy=strategy, X=emb, seed=seed)
    classes = list(getattr(est, "classes_", range(proba.shape[1])))
    rows = read_table(pool).iloc[idx].reset_index(drop=True) if len(idx) else read_table(pool).head(0)
    pred = np.asarray(classes, dtype=object)[proba[idx].argmax(axis=1)] if len(idx) else []
    conf = proba[idx].max(axis=1) if len(idx) else []
    home = settings.ensure_home() / "labels"
    if fmt == "label-studio":
        out = os.path.abspath(out or str(home / f"query-{strategy}-{k}.json"))
        tasks = tasks_json(rows, key=key, labels=list(pred), scores=list(conf), model_version=model, from_name=from_name, to_name=to_name)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w", encoding="utf-8") as f:
            json.dump(tasks, f, indent=1, default=str)
        with open(os.path.splitext(out)[0] + ".config.xml", "w", encoding="utf-8") as f:
            f.write(labeling_config([str(c) for c in classes], from_name=from_name, to_name=to_name))
    else:
        rows = rows.assign(__score=scores, __prediction=list(pred), __confidence=conf)
        out = write_parquet(rows, out or str(home / f"query-{strategy}-{k}.parquet"))
    model_art = store.get_artifact(record["artifact_id"])
    arts = record_step(
        store, "QueryPool", name=f"query {strategy} k={k}",
        inputs={"pool": source_artifact(store, pool, name="pool"), "model": model_art},
        outputs={"tasks": output_artifact(out, name="label_tasks", rows=len(idx), strategy=strategy, model=model, format=fmt)},
        properties={"strategy": strategy, "k": int(k), "pool_rows": int(len(proba))},
    )
    ids = keys[idx] if keys is not None else idx
    return {
        "strategy": strategy,
        "k": int(len(idx)),
        "pool": int(len(proba)),
        "selected": [{"key": v.item() if hasattr(v, "item") else v, "score": float(s)} for v, s in zip(ids, scores)],
        "out": out,
        "artifacts": {k_: a.id for k_, a in arts.items()},
    }
