"""``raymlops labels self-train``: rows with an empty target are unlabeled; self-training
adds the confident ones as pseudo-labels (scored on Ray Data) and registers the model.

The run is tracked like any other (``start_run``): its inputs are the data, its outputs
the pseudo-labels (a ``Dataset`` artifact: row or key, label, confidence, round) and the
registered model, with the drift monitor's reference profile attached as training attaches
it (:func:`raymlops.monitoring.live.reference_attachment`, labeling's one use of
monitoring). When every class has a few labelled rows, ``holdout`` of them are kept
aside first to report the self-trained model against the same model trained on the
labelled rows alone; the registered model then uses every labelled row.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from raymlops.core import runtime
from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.labeling.io import read_table, write_parquet
from raymlops.labeling.ray_ops import score_pool
from raymlops.labeling.record import output_artifact, source_artifact
from raymlops.labeling.semi.self_training import SelfTraining, default_estimator
from raymlops.core.names import validate_name
from raymlops.metadata import MetadataAPI, connect
from raymlops.monitoring.reference import reference_attachment
from raymlops.registry import ModelRegistry
from raymlops.tracking import start_run

__all__ = ["self_train", "split_labeled"]


def split_labeled(df: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows with a target, rows without (empty cell or blank text)."""
    if target not in df.columns:
        raise InvalidInputError(f"target column {target!r} is not in the data (columns: {', '.join(map(str, df.columns))})")
    y = df[target]
    empty = y.isna().to_numpy(copy=True)
    if y.dtype == object or pd.api.types.is_string_dtype(y.dtype):
        empty |= y.astype("string").str.strip().eq("").fillna(False).to_numpy(dtype=bool)
    return df[~empty], df[empty]


def _clean_target(y: pd.Series) -> pd.Series:
    if y.dtype.kind == "f" and np.allclose(y, np.round(y)):
        return y.astype(np.int64)
    return y


def self_train(
    data: Any,
    *,
    target: str,
    name: str,
    threshold: float = 0.9,
    max_iter: int = 10,
    key: str | None = None,
    holdout: float = 0.2,
    seed: int = 0,
    out: str | None = None,
    settings: Settings | None = None,
    store: MetadataAPI | None = None,
) -> dict[str, Any]:
    """Self-train on ``data``; write the pseudo-labels; register ``name``.

    Raises:
        InvalidInputError: an unknown target or key, no labelled or no unlabelled row,
            fewer than two classes, a bad threshold.
    """
    validate_name(name)
    if not 0.0 < threshold <= 1.0:
        raise InvalidInputError(f"--threshold {threshold}: use a probability in (0, 1]")
    settings = settings or Settings.resolve()
    store = store or connect(settings)
    df = read_table(data)
    if key is not None and key not in df.columns:
        raise InvalidInputError(f"key column {key!r} is not in the data (columns: {', '.join(map(str, df.columns))})")
    lab, unl = split_labeled(df, target)
    if lab.empty:
        raise InvalidInputError(f"no row has a {target!r}: label a few rows first")
    if unl.empty:
        raise InvalidInputError(f"every row has a {target!r}: nothing to self-train on; use `raymlops train`")
    features = [c for c in df.columns if c not in (target, key)]
    X_l, y_l = lab[features].reset_index(drop=True), _clean_target(lab[target].reset_index(drop=True))
    X_u = unl[features].reset_index(drop=True)
    if y_l.nunique() < 2:
        raise InvalidInputError(f"the labelled rows have one class ({y_l.iloc[0]!r}): self-training needs at least two")
    runtime.init(settings)

    def on_ray(model: Any, rows: pd.DataFrame) -> np.ndarray:
        return score_pool(rows, model)[1]

    comparison: dict[str, Any] = {}
    counts = y_l.value_counts()
    params = {"threshold": threshold, "max_iter": max_iter, "target": target, "labeled": int(len(X_l)), "unlabeled": int(len(X_u))}
    with start_run(name, name="self-training", params=params, seed=seed, inputs=[source_artifact(store, data, name="data")], store=store) as run:
        if holdout > 0 and counts.min() >= 4 and len(X_l) * holdout >= 2 * len(counts):
            Xa, Xb, ya, yb = train_test_split(X_l, y_l, test_size=holdout, stratify=y_l, random_state=seed)
            sup = default_estimator(Xa, seed).fit(Xa, ya)
            st = SelfTraining(threshold=threshold, max_iter=max_iter, seed=seed).fit(Xa, ya, X_u, score=on_ray)
            comparison = {
                "holdout_rows": int(len(Xb)),
                "supervised_only": float((sup.predict(Xb) == yb.to_numpy()).mean()),
                "self_training": float((st.predict(Xb) == yb.to_numpy()).mean()),
            }
            run.log_metrics({f"holdout_accuracy_{k}": v for k, v in comparison.items() if k != "holdout_rows"})
        final = SelfTraining(threshold=threshold, max_iter=max_iter, seed=seed).fit(X_l, y_l, X_u, score=on_ray)
        pseudo = final.pseudo_.copy()
        if key is not None:
            pseudo.insert(0, key, unl[key].to_numpy()[pseudo["row"].to_numpy()])
        else:
            pseudo["row"] = unl.index.to_numpy()[pseudo["row"].to_numpy()]
        pseudo["label"] = pseudo["label"].astype(y_l.dtype) if len(pseudo) else pseudo["label"]
        path = write_parquet(pseudo, out or str(settings.ensure_home() / "labels" / f"{name}-pseudo-labels.parquet"))
        art = run.log_artifact(output_artifact(path, name="pseudo_labels", df=pseudo, threshold=threshold, rounds=int(final.n_iter_)), role="pseudo_labels")
        run.log_metrics({"pseudo_labels": float(len(pseudo)), "rounds": float(final.n_iter_)})
    registry = ModelRegistry.connect(settings)
    record = registry.register(
        final.estimator_, name, input_example=X_l.head(5), attachments=reference_attachment(final.estimator_, X_l), run=run.id,
        description=f"self-trained on {len(X_l)} labelled rows and {len(pseudo)} pseudo-labels (threshold {threshold})",
        metadata={"task": "classification", "target": target, "self_training": {**params, **comparison, "pseudo_labels": int(len(pseudo))}},
    )
    return {
        "name": name,
        "version": record["version"],
        "labeled": int(len(X_l)),
        "unlabeled": int(len(X_u)),
        "pseudo_labels": int(len(pseudo)),
        "rounds": [h for h in final.history_],
        "threshold": threshold,
        "comparison": comparison,
        "out": path,
        "run": run.id,
        "artifacts": {"pseudo_labels": art.id},
    }
