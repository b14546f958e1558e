"""A first baseline: a scaled logistic regression (or ridge) on a recorded dataset.

The run is tracked (params, metrics, seed, input hashes) and the fitted pipeline is
registered as an output of the run, so lineage goes model → run → dataset → source.
"""

from __future__ import annotations

from typing import Any

from raymlops.config import Settings
from raymlops.errors import InvalidInputError
from raymlops.metadata import Artifact
from raymlops.registry import ModelRegistry
from raymlops.tracking import start_run

__all__ = ["train_baseline", "read_dataset_frame"]


def read_dataset_frame(artifact: Artifact):
    """Read a recorded CSV or Parquet ``Dataset`` artifact into pandas."""
    import pandas as pd

    if not artifact.uri.startswith("file://"):
        raise InvalidInputError(f"dataset {artifact.uri!r} is not a local file; pass a file:// dataset")
    from raymlops.data.artifacts import files_of

    path = artifact.uri[len("file://") :]
    frames = [pd.read_csv(f) if f.endswith(".csv") else pd.read_parquet(f) for f in files_of(path)]
    if not frames:
        raise InvalidInputError(f"dataset {artifact.uri} holds no files")
    return pd.concat(frames, ignore_index=True)


def train_baseline(
    dataset: Artifact,
    *,
    target: str,
    name: str,
    experiment: str = "baseline",
    seed: int = 0,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Fit and register a linear baseline on ``dataset``; returns the version record."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    registry = ModelRegistry.connect(settings)
    df = read_dataset_frame(dataset)
    if target not in df.columns:
        raise InvalidInputError(f"target column {target!r} is not in the dataset; columns: {', '.join(df.columns)}")
    X, y = df.drop(columns=[target]), df[target]
    classify = y.dtype.kind in "iub" or y.dtype == object
    est = LogisticRegression(max_iter=2000) if classify else Ridge()
    params = {"estimator": type(est).__name__, "test_size": 0.25, "target": target}
    with start_run(experiment, name=f"baseline {name}", params=params, seed=seed, inputs=[dataset], store=registry.store) as run:
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=0.25, random_state=seed, stratify=y if classify else None
        )
        model = make_pipeline(StandardScaler(), est).fit(X_tr, y_tr)
        pred = model.predict(X_te)
        metric = ("accuracy", accuracy_score(y_te, pred)) if classify else ("r2", r2_score(y_te, pred))
        run.log_metrics({metric[0]: float(metric[1]), "train_rows": len(X_tr), "test_rows": len(X_te)})
        record = registry.register(
            model,
            name,
            input_example=X.head(5),
            run=run,
            description=f"baseline {type(est).__name__} on {dataset.name or dataset.uri}",
            metadata={"metrics": {metric[0]: float(np.round(metric[1], 6))}, "target": target},
        )
    record["metrics"] = {metric[0]: float(metric[1])}
    record["run_id"] = run.id
    return record
