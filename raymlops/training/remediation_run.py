"""Remediation runs: fix an underperforming slice of a registered model and compare before
and after.

Three methods (:data:`REMEDIES`), each measured on the test split on the slice gap (best
slice's metric minus the worst's) and the overall metric (:mod:`raymlops.training.remediate`
holds the pure cores):

- ``thresholds``: per-slice decision thresholds fitted on the validation split
  (post-processing of a binary classifier; the model itself is unchanged);
- ``mindiff``: a logistic regression trained with the MinDiff penalty (λ·MMD² between the
  score distributions of the slice and the rest) on the pipeline's features;
- ``augment``: SMOTE rows made from the slice's own rows, then the default model again.

Every run is a ``Remediate`` execution (inputs: the model and the data; the comparison
in its properties); with ``register`` the remediated model becomes a new version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.errors import InvalidInputError
from raymlops.core.values import plain
from raymlops.training import remediate as R
from raymlops.training.models import compose, fit_on_features, make_estimator
from raymlops.training.prepared import Prepared
from raymlops.training.registration import register_trained

__all__ = ["METHODS", "REMEDIES", "Remedy", "RemedyCase", "parse_slice", "run_remediation"]


def parse_slice(expr: str, columns: Any) -> tuple[str, str]:
    """``"color=red"`` → ``("color", "red")``, the column checked against ``columns``."""
    col, sep, value = expr.partition("=")
    if not sep or not col or not value:
        raise InvalidInputError(f"slice {expr!r}: write COLUMN=VALUE, e.g. color=red")
    if col not in set(map(str, columns)):
        raise InvalidInputError(f"slice column {col!r} is not a feature; features: {', '.join(map(str, columns))}")
    return col, value


@dataclass(frozen=True)
class RemedyCase:
    """What a remedy works with: the model, the prepared data and the slice."""

    base: Any
    prep: Prepared
    column: str
    value: str
    classes: np.ndarray
    target: str
    lam: float
    seed: int

    def labels(self, X: pd.DataFrame) -> np.ndarray:
        """``"in"``/``"out"`` of the slice for every row of ``X``."""
        return R.slice_membership(X, self.column, self.value)


@dataclass(frozen=True)
class Remedy:
    """A remediation method.

    Attributes:
        binary_only: it needs a binary classifier.
        fix: ``case -> (fixed model, extra figures for the result)``.
    """

    binary_only: bool
    fix: Callable[[RemedyCase], tuple[Any, dict[str, Any]]]


def _thresholds(case: RemedyCase) -> tuple[Any, dict[str, Any]]:
    X_val, y_val = case.prep.xy("validation")
    fitted = R.SliceThresholds().fit(
        case.base.predict_proba(X_val)[:, 1], (y_val.to_numpy() == case.classes[1]).astype(int), case.labels(X_val)
    )
    fixed = R.SliceThresholdModel(model=case.base, thresholds=fitted, column=case.column, value=case.value)
    return fixed, {"thresholds": {str(k): float(v) for k, v in getattr(fitted, "thresholds_", {}).items()}}


def _mindiff(case: RemedyCase) -> tuple[Any, dict[str, Any]]:
    prep = case.prep
    X_tr, y_tr = prep.xy("train")
    X_te, _ = prep.xy("test")
    Xf = prep.transform.transform(X_tr)
    groups = case.labels(X_tr) == "in"
    unpenalised = R.MinDiffLogisticRegression(lam=0.0, random_state=case.seed).fit(Xf, y_tr.to_numpy(), groups)
    md = R.MinDiffLogisticRegression(lam=case.lam, random_state=case.seed).fit(Xf, y_tr.to_numpy(), groups)
    Xt = prep.transform.transform(X_te)
    gt = case.labels(X_te) == "in"
    s_plain, s_md = unpenalised.predict_proba(Xt)[:, 1], md.predict_proba(Xt)[:, 1]
    mmd2 = {"before": R.mmd2_biased(s_plain[gt], s_plain[~gt]), "after": R.mmd2_biased(s_md[gt], s_md[~gt]), "lam": case.lam}
    return compose(prep.transform, md), {"mmd2": mmd2}


def _augment(case: RemedyCase) -> tuple[Any, dict[str, Any]]:
    X_tr, y_tr = case.prep.xy("train")
    df = pd.concat([X_tr, y_tr], axis=1)
    aug = R.augment_slice(df, target=case.target, slice_mask=case.labels(X_tr) == "in", seed=case.seed)
    frame = aug.frame.drop(columns=[c for c in aug.frame.columns if str(c).startswith("__")])
    estimator = make_estimator("hgb", "classification", seed=case.seed)
    fixed = fit_on_features(case.prep.transform, estimator, frame.drop(columns=[case.target]), frame[case.target])
    return fixed, {"augmented_rows": {str(k): int(v) for k, v in aug.added.items()}}


REMEDIES: Mapping[str, Remedy] = {
    "thresholds": Remedy(binary_only=True, fix=_thresholds),
    "mindiff": Remedy(binary_only=True, fix=_mindiff),
    "augment": Remedy(binary_only=False, fix=_augment),
}
"""The remediation methods by name: a new method is a function and one line here."""

METHODS = tuple(REMEDIES)


def run_remediation(
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
    prepared: Prepared | None = None,
) -> dict[str, Any]:
    """Apply ``method`` to the slice ``slice_expr`` of ``model`` and compare before/after.

    Args:
        trainer: a :class:`~raymlops.training.train.Trainer` (settings, store, registry).
        data: the data (as for ``Trainer.fit``); ignored with ``prepared``.
        target: the label column.
        model: the model to remediate, ``NAME@VERSION`` or ``NAME@ALIAS``.
        slice_expr: the slice, ``COLUMN=VALUE``.
        method: one of :data:`METHODS`.
        lam: the MinDiff weight (``mindiff``).
        register: register the remediated model under this name.
        seed: the seed of the data split and the remedies.
        schema_path: validate the data against this schema.
        prepared: data already prepared.

    Returns:
        ``{"model", "slice", "method", "comparison": {"slice_gap": {"before", "after"},
        "overall": {"before", "after"}, "slices": ...}, "registered": version | None, ...}``.

    Raises:
        InvalidInputError: an unknown method, a regression target, a slice without test
            rows, or a binary-only method on a multiclass model.
    """
    if method not in REMEDIES:
        raise InvalidInputError(f"remediation method {method!r}: use one of {', '.join(METHODS)}")
    remedy = REMEDIES[method]
    rec = trainer.registry.get(model)  # an unknown model fails before any work
    base = trainer.registry.load(model)
    prep = prepared or trainer.prepare(data, target=target, schema_path=schema_path, seed=seed)
    if prep.task != "classification":
        raise InvalidInputError("remediation methods here are for classifiers; the target is a regression target")
    X_tr, y_tr = prep.xy("train")
    X_te, y_te = prep.xy("test")
    col, value = parse_slice(slice_expr, X_te.columns)
    classes = np.asarray(getattr(base, "classes_", np.unique(y_tr)))
    case = RemedyCase(base=base, prep=prep, column=col, value=value, classes=classes, target=target, lam=lam, seed=seed)
    if not (case.labels(X_te) == "in").any():
        raise InvalidInputError(f"no test rows have {col}={value}: check the slice value")
    if remedy.binary_only and len(classes) != 2:
        raise InvalidInputError(f"{method} needs a binary classifier; {model} has {len(classes)} classes (try --method augment)")

    before = R.slice_metrics(y_te.to_numpy(), base.predict(X_te), case.labels(X_te))
    fixed, extra = remedy.fix(case)
    after = R.slice_metrics(y_te.to_numpy(), fixed.predict(X_te), case.labels(X_te))
    out: dict[str, Any] = {
        "model": f"{rec['name']}@{rec['version']}",
        "slice": f"{col}={value}",
        "method": method,
        "comparison": plain(R.compare(before, after)),
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
            reg = register_trained(
                trainer.registry,
                fixed,
                register,
                X_train=X_tr,
                run=step.execution.id,
                description=f"{method} remediation of {out['model']} for slice {out['slice']}",
                metadata={"task": "classification", "target": target, "remediation": {"method": method, "slice": out["slice"]}},
            )
            out["registered"] = reg["version"]
    return out
