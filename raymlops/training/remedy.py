"""Remediation runs: fix an underperforming slice and compare before and after.

Three methods, each measured on the test split on the slice gap (best slice's metric
minus the worst's) and the overall metric (:mod:`raymlops.training.remediate` holds the
cores):

- ``thresholds``: per-slice decision thresholds fitted on the validation split
  (post-processing of a binary classifier; the model itself is unchanged);
- ``mindiff``: a logistic regression trained with the MinDiff penalty (λ·MMD² between the
  score distributions of the slice and the rest) on the pipeline's features;
- ``augment``: SMOTE rows made from the slice's own rows, then the default model again.

Every run is a ``Remediate`` execution (inputs: the model and the data; the comparison
in its properties); with ``register`` the remediated model becomes a new version.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from raymlops.core.errors import InvalidInputError
from raymlops.training import remediate as R
from raymlops.training.models import compose, fit_on_features, make_estimator
from raymlops.monitoring.live import reference_attachment

__all__ = ["SliceThresholdModel", "remediate", "METHODS", "parse_slice"]

METHODS = ("thresholds", "mindiff", "augment")


def parse_slice(expr: str, columns: Any) -> tuple[str, str]:
    """``"color=red"`` → ``("color", "red")``, the column checked against ``columns``."""
    col, sep, value = expr.partition("=")
    if not sep or not col or not value:
        raise InvalidInputError(f"slice {expr!r}: write COLUMN=VALUE, e.g. color=red")
    if col not in set(map(str, columns)):
        raise InvalidInputError(f"slice column {col!r} is not a feature; features: {', '.join(map(str, columns))}")
    return col, value


class SliceThresholdModel(ClassifierMixin, BaseEstimator):
    """A fitted binary classifier with one decision threshold per slice (in and out)."""

    def __init__(self, model: Any = None, thresholds: Any = None, column: str = "", value: str = ""):
        self.model = model
        self.thresholds = thresholds
        self.column = column
        self.value = value

    @property
    def classes_(self) -> np.ndarray:
        return self.model.classes_

    def _labels(self, X: pd.DataFrame) -> np.ndarray:
        return np.where(X[self.column].astype(str).to_numpy() == self.value, "in", "out")

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        scores = self.model.predict_proba(X)[:, 1]
        positive = np.asarray(self.thresholds.predict(scores, self._labels(X)), dtype=bool)
        return np.where(positive, self.classes_[1], self.classes_[0])


def remediate(
    trainer: Any,
    data: Any,
    *,
    target: str,
    model: str,
    slice_expr: str,
    method: str,
    lam: float = 3.0,
    register: str | None = None,
    seed: int = 0,
    schema_path: str | None = None,
    prepared: Any = None,
) -> dict[str, Any]:
    """Apply ``method`` to the slice ``slice_expr`` of ``model`` and compare before/after.

    Returns:
        ``{"model", "slice", "method", "comparison": {"slice_gap": {"before", "after"},
        "overall": {"before", "after"}, "slices": ...}, "registered": version | None, ...}``.
    """
    if method not in METHODS:
        raise InvalidInputError(f"remediation method {method!r}: use one of {', '.join(METHODS)}")
    rec = trainer.registry.get(model)  # an unknown model fails before any work
    base = trainer.registry.load(model)
    prep = prepared or trainer.prepare(data, target=target, schema_path=schema_path, seed=seed)
    if prep.task != "classification":
        raise InvalidInputError("remediation methods here are for classifiers; the target is a regression target")
    X_tr, y_tr = prep.xy("train")
    X_val, y_val = prep.xy("validation")
    X_te, y_te = prep.xy("test")
    col, value = parse_slice(slice_expr, X_te.columns)

    def labels(X: pd.DataFrame) -> np.ndarray:
        return np.where(X[col].astype(str).to_numpy() == value, "in", "out")

    if not (labels(X_te) == "in").any():
        raise InvalidInputError(f"no test rows have {col}={value}: check the slice value")
    classes = np.asarray(getattr(base, "classes_", np.unique(y_tr)))
    binary = len(classes) == 2
    if method in ("thresholds", "mindiff") and not binary:
        raise InvalidInputError(f"{method} needs a binary classifier; {model} has {len(classes)} classes (try --method augment)")

    before = R.slice_metrics(y_te.to_numpy(), base.predict(X_te), labels(X_te))
    extra: dict[str, Any] = {}
    if method == "thresholds":
        fitted = R.SliceThresholds().fit(base.predict_proba(X_val)[:, 1], (y_val.to_numpy() == classes[1]).astype(int), labels(X_val))
        fixed: Any = SliceThresholdModel(model=base, thresholds=fitted, column=col, value=value)
        extra["thresholds"] = {str(k): float(v) for k, v in getattr(fitted, "thresholds_", {}).items()}
    elif method == "mindiff":
        Xf = prep.transform.transform(X_tr)
        groups = labels(X_tr) == "in"
        plain = R.MinDiffLogisticRegression(lam=0.0, random_state=seed).fit(Xf, y_tr.to_numpy(), groups)
        md = R.MinDiffLogisticRegression(lam=lam, random_state=seed).fit(Xf, y_tr.to_numpy(), groups)
        fixed = compose(prep.transform, md)
        Xt = prep.transform.transform(X_te)
        gt = labels(X_te) == "in"
        s_plain, s_md = plain.predict_proba(Xt)[:, 1], md.predict_proba(Xt)[:, 1]
        extra["mmd2"] = {
            "before": R.mmd2_biased(s_plain[gt], s_plain[~gt]),
            "after": R.mmd2_biased(s_md[gt], s_md[~gt]),
            "lam": lam,
        }
    else:
        df = pd.concat([X_tr, y_tr], axis=1)
        aug = R.augment_slice(df, target=target, slice_mask=labels(X_tr) == "in", seed=seed)
        frame = aug.frame.drop(columns=[c for c in aug.frame.columns if str(c).startswith("__")])
        fixed = fit_on_features(prep.transform, make_estimator("hgb", "classification", seed=seed), frame.drop(columns=[target]), frame[target])
        extra["augmented_rows"] = {str(k): int(v) for k, v in aug.added.items()}
    after = R.slice_metrics(y_te.to_numpy(), fixed.predict(X_te), labels(X_te))
    comparison = R.compare(before, after)
    out: dict[str, Any] = {
        "model": f"{rec['name']}@{rec['version']}",
        "slice": f"{col}={value}",
        "method": method,
        "comparison": _plain(comparison),
        **extra,
        "registered": None,
    }
    model_art = trainer.store.get_artifact(rec["artifact_id"])
    with trainer.store.run_execution(
        "Remediate",
        name=f"{method} {out['slice']} of {out['model']}",
        inputs={"model": model_art, "train": prep.artifacts["train"], "examples": prep.artifacts["split_test"]},
        properties={"method": method, "slice": out["slice"], "comparison": out["comparison"]},
    ) as step:
        if register:
            reg = trainer.registry.register(
                fixed,
                register,
                input_example=X_tr.head(5),
                attachments=reference_attachment(fixed, X_tr),
                run=step.execution.id,
                description=f"{method} remediation of {out['model']} for slice {out['slice']}",
                metadata={"task": "classification", "target": target, "remediation": {"method": method, "slice": out["slice"]}},
            )
            out["registered"] = reg["version"]
    return out


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if hasattr(obj, "item"):
        return obj.item()
    return obj
