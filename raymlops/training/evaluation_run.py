"""The evaluation-and-blessing step of a registered version, and reading it back.

:func:`evaluate_and_bless` evaluates ``name@version`` on the test split overall and per
slice, against the current ``champion`` (the baseline) when there is one, finds the
worst slices (SliceLine), and :func:`record_blessing` records the outcome: an
``Evaluate`` execution (inputs: the model, the test split and the baseline model) whose
output is a ``Blessing`` artifact (the JSON report), and the verdict in the registry,
which guards the ``champion`` alias (``registry.verdict(name, version)``).

:func:`blessing_of` reads that record back from the lineage: the latest ``Blessing``
artifact of a version and the ``Evaluate`` execution that wrote it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from raymlops.artifacts import sha256_file
from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.core.values import plain
from raymlops.metadata import Artifact, Execution, MetadataAPI
from raymlops.registry import ModelRegistry
from raymlops.training.evaluate import (
    NOT_BLESSED,
    Blessing,
    ChangeThreshold,
    SliceSpec,
    Threshold,
    bless,
    evaluate,
)
from raymlops.training.metrics import get_metric
from raymlops.training.prepared import Prepared
from raymlops.training.slices import find_worst_slices

__all__ = [
    "BlessingRecord",
    "blessing_of",
    "evaluate_and_bless",
    "feature_slice",
    "record_blessing",
    "reported_metrics",
]


def reported_metrics(task: str, primary: str) -> list[str]:
    """The metrics a training run reports: the primary one first, then the task's usual ones.

    Example:
        >>> reported_metrics("classification", "f1"), reported_metrics("regression", "rmse")
        (['f1', 'accuracy'], ['rmse', 'mae', 'r2'])
    """
    extra = ["accuracy", "f1"] if task == "classification" else ["rmse", "mae", "r2"]
    return [primary, *[e for e in extra if e != primary]]


def feature_slice(X: pd.DataFrame, column: str) -> SliceSpec:
    """The slice spec of ``--slice COLUMN``: one slice per value (or quantile bucket) of a feature.

    Raises:
        InvalidInputError: ``column`` is not a feature of ``X``.
    """
    if column not in X.columns:
        raise InvalidInputError(f"slice column {column!r} is not a feature; features: {', '.join(map(str, X.columns))}")
    return SliceSpec(column=column)  # numeric columns with many values get quantile buckets


def _row_errors(model: Any, X: pd.DataFrame, y: pd.Series, task: str) -> np.ndarray:
    """Per-row errors for SliceLine: 0/1 misclassifications, or absolute errors."""
    pred = model.predict(X)
    if task == "classification":
        return (np.asarray(pred) != y.to_numpy()).astype(float)
    return np.abs(np.asarray(pred, dtype=float) - y.to_numpy(dtype=float))


def evaluate_and_bless(
    settings: Settings,
    store: MetadataAPI,
    registry: ModelRegistry,
    name: str,
    version: int,
    prep: Prepared,
    *,
    metric: str,
    slices: Sequence[Any] = (),
    thresholds: Sequence[Any] | None = None,
    max_drop: float = 0.0,
    dummy_score: float | None = None,
    k_worst: int = 5,
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """Evaluate ``name@version`` on the test split against the champion and record a Blessing.

    The checks: ``thresholds``; a lower (or upper) bound at the dummy baseline's score
    on ``metric`` unless a threshold already bounds it; and ``metric`` may drop by at
    most ``max_drop`` against the champion (skipped without one).

    Args:
        settings: raymlops settings (the report goes under ``home/evaluations``).
        store: the metadata store.
        registry: the model registry.
        name: the registered name.
        version: the version to evaluate.
        prep: the prepared data (its test split is evaluated).
        metric: the primary metric.
        slices: slice specs, or feature names (see :func:`feature_slice`).
        thresholds: :class:`~raymlops.training.evaluate.Threshold` and
            :class:`~raymlops.training.evaluate.ChangeThreshold` definitions.
        max_drop: the allowed drop of ``metric`` against the champion.
        dummy_score: the dummy baseline's validation score to beat.
        k_worst: how many worst slices to find.

    Returns:
        ``(evaluation, blessing, worst_slices)``: ``{"overall", "by_slice", "counts"}``,
        the blessing's ``to_dict`` with ``baseline`` (what it was compared with) and
        ``report`` (the JSON report's path), and the worst slices' ``to_dict``.
    """
    m = get_metric(metric)
    X_te, y_te = prep.xy("test")
    candidate_model = registry.load(f"{name}@{version}")
    specs = [feature_slice(X_te, s) if isinstance(s, str) else s for s in slices]
    names = reported_metrics(prep.task, m.name)
    cand = evaluate(candidate_model, X_te, y_te, metrics=names, slices=specs)
    champion = registry.versions.get_aliases(name).get("champion")
    baseline = None
    baseline_note = "no champion yet: change thresholds skipped"
    if champion is not None and champion != version:
        try:
            baseline = evaluate(registry.load(f"{name}@champion"), X_te, y_te, metrics=names, slices=specs)
            baseline_note = f"compared with champion {name}@{champion}"
        except Exception as exc:  # noqa: BLE001 - an incompatible champion cannot be compared
            baseline_note = f"champion {name}@{champion} could not be evaluated on this data ({type(exc).__name__}): change thresholds skipped"
    checks = list(thresholds or [])
    if dummy_score is not None and not any(getattr(t, "metric", None) == m.name and not isinstance(t, ChangeThreshold) for t in checks):
        bound = {"lower": dummy_score} if m.greater_is_better else {"upper": dummy_score}
        checks.append(Threshold(metric=m.name, **bound))
    checks.append(ChangeThreshold(metric=m.name, min_improvement=-abs(max_drop)))
    blessing = bless(cand, baseline, checks)

    errors = _row_errors(candidate_model, X_te, y_te, prep.task)
    worst = [s.to_dict() for s in find_worst_slices(X_te.reset_index(drop=True), errors, k=k_worst)]

    inputs: dict[str, Artifact] = {
        "model": store.get_artifact(registry.get(f"{name}@{version}")["artifact_id"]),
        "examples": prep.artifacts["split_test"],
    }
    if baseline is not None:
        inputs["baseline"] = store.get_artifact(registry.get(f"{name}@champion")["artifact_id"])
    report = {
        "model": f"{name}@{version}",
        "baseline": baseline_note,
        "evaluation": cand.to_dict(),
        "baseline_evaluation": baseline.to_dict() if baseline is not None else None,
        "blessing": blessing.to_dict(),
        "worst_slices": worst,
    }
    path = settings.home / "evaluations" / f"{name}-{version}-{dt.datetime.now().strftime('%Y%m%d%H%M%S%f')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plain(report), indent=2, default=str))
    record_blessing(store, registry, name, version, blessing, report=path, inputs=inputs, baseline_note=baseline_note)
    bl = blessing.to_dict()
    bl["baseline"] = baseline_note
    bl["report"] = str(path)
    return {"overall": cand.overall, "by_slice": cand.by_slice, "counts": cand.counts}, bl, worst


def record_blessing(
    store: MetadataAPI,
    registry: ModelRegistry,
    name: str,
    version: int,
    blessing: Blessing,
    *,
    report: Path,
    inputs: dict[str, Artifact],
    baseline_note: str = "",
) -> Artifact:
    """Record a verdict on ``name@version``: an ``Evaluate`` execution with a ``Blessing`` output.

    Args:
        store: the metadata store.
        registry: the model registry (it keeps the verdict for the ``champion`` guard).
        name: the registered name.
        version: the evaluated version.
        blessing: the verdict and its checks.
        report: the JSON report file (the ``Blessing`` artifact's content).
        inputs: the execution's inputs by role (``model``, ``examples``, ``baseline``).
        baseline_note: what the candidate was compared with.

    Returns:
        The ``Blessing`` artifact.
    """
    failed = [c.message for c in blessing.failed]
    with store.run_execution("Evaluate", name=f"evaluate {name}@{version}", inputs=inputs) as step:
        artifact = step.add_output(
            Artifact(
                type="Blessing",
                uri=f"file://{report}",
                sha256=sha256_file(report),
                name=f"{name}@{version}",
                properties={
                    "verdict": blessing.verdict,
                    "model_name": name,
                    "version": version,
                    "failed": failed,
                    "baseline": baseline_note,
                },
            ),
            role="blessing",
        )
    registry.record_verdict(name, version, blessing.verdict, failed=failed, report=artifact.uri, artifact_id=artifact.id)
    return artifact


@dataclass(frozen=True)
class BlessingRecord:
    """The latest recorded blessing of a version: its ``Blessing`` artifact and ``Evaluate`` execution.

    Attributes:
        artifact: the ``Blessing`` artifact (``uri``: the JSON report; ``properties``:
            ``verdict``, ``failed``, ``baseline``, ``model_name``, ``version``).
        execution: the ``Evaluate`` execution that wrote it.
    """

    artifact: Artifact
    execution: Execution

    @property
    def verdict(self) -> str:
        """``"BLESSED"`` or ``"NOT_BLESSED"``."""
        return self.artifact.properties.get("verdict", NOT_BLESSED)

    @property
    def failed(self) -> list[str]:
        """The failed checks' messages."""
        return list(self.artifact.properties.get("failed", []))

    def to_dict(self) -> dict[str, Any]:
        """``{"verdict", "failed", "report", "artifact_id", "execution_id", "evaluated"}``."""
        return {
            "verdict": self.verdict,
            "failed": self.failed,
            "report": self.artifact.uri,
            "artifact_id": self.artifact.id,
            "execution_id": self.execution.id,
            "evaluated": self.execution.update_time,
        }


def blessing_of(store: MetadataAPI, registry: ModelRegistry, ref: str) -> BlessingRecord | None:
    """The latest blessing of a version, from the lineage: what :func:`record_blessing` wrote.

    The registry's :meth:`~raymlops.registry.ModelRegistry.verdict` answers "is it
    blessed?"; this gives the full record: the ``Blessing`` artifact (the report) and the
    ``Evaluate`` execution (its inputs: the model, the examples, the baseline).

    Args:
        store: the metadata store.
        registry: the model registry.
        ref: ``NAME@VERSION`` or ``NAME@ALIAS``.

    Returns:
        The record of the latest completed ``Evaluate`` execution of the version that
        has a ``Blessing`` output, or ``None`` when the version was never evaluated.

    Raises:
        ModelNotFoundError: no such version.
    """
    rec = registry.get(ref)
    evals = [e.execution_id for e in store.get_events(artifact_id=rec["artifact_id"]) if e.type == "INPUT" and e.path == "model"]
    done = [e for e in store.get_executions(ids=evals, type="Evaluate") if e.state == "COMPLETE"] if evals else []
    for ex in sorted(done, key=lambda e: e.id, reverse=True):
        outs = [e.artifact_id for e in store.get_events(execution_id=ex.id) if e.type == "OUTPUT"]
        for art in store.get_artifacts(ids=outs, type="Blessing"):
            return BlessingRecord(artifact=art, execution=ex)
    return None
