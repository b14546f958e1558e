"""Training: from a dataset to a registered, evaluated and (maybe) blessed model version.

The playbook (:meth:`Trainer.fit`):

1. the data pipeline (validation with quarantine, split, feature transform fitted on the
   training split) — its artifacts are the inputs of every run;
2. baselines first, so there is a reference within seconds: a dummy and a linear model;
3. the default model (HistGradientBoosting), and with ``tune_trials`` a sweep on Ray Tune
   (ASHA, every trial a tracked run);
4. the best candidate on the validation split — by the declared business metric — is
   registered (the pipeline's fitted transform is part of the model), evaluated on the
   test split overall and per slice, with the worst slices found automatically, and
   compared with the current ``champion``: a ``Blessing`` artifact records the verdict.

The steps live in their own modules: :mod:`~raymlops.training.prepared` (the prepared data),
:mod:`~raymlops.training.train_tune` (the sweep's trainable and default space),
:mod:`~raymlops.training.registration` (registering with the reference profile) and
:mod:`~raymlops.training.evaluation_run` (evaluation and blessing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import ray

from raymlops.artifacts import BlobStore, loads_model
from raymlops.core import runtime
from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.core.names import validate_name
from raymlops.data import DataPipeline, Schema
from raymlops.metadata import MetadataAPI, connect
from raymlops.registry import ModelRegistry
from raymlops.tracking import start_run
from raymlops.training import metrics as M
from raymlops.training.evaluation_run import evaluate_and_bless, feature_slice, reported_metrics
from raymlops.training.models import check_target, compose, fit_on_features, make_estimator
from raymlops.training.prepared import SPLITS, WEIGHT_REASON, Prepared, check_weights
from raymlops.training.registration import register_trained
from raymlops.training.train_tune import HGB_STEPS, default_space, hgb_trainable
from raymlops.training.tune import load_checkpoint_model, parse_space, run_sweep

__all__ = ["Prepared", "TrainResult", "Trainer", "default_space", "hgb_trainable"]


@dataclass
class TrainResult:
    """What :meth:`Trainer.fit` produced (``to_dict`` is the CLI's JSON)."""

    name: str
    version: int
    metric: str
    metrics: dict[str, Any]
    blessed: bool
    blessing: dict[str, Any]
    runs: list[dict[str, Any]]
    evaluation: dict[str, Any] = field(default_factory=dict)
    worst_slices: list[dict[str, Any]] = field(default_factory=list)
    sweep: list[dict[str, Any]] = field(default_factory=list)
    excluded_columns: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "metric": self.metric,
            "metrics": self.metrics,
            "blessed": self.blessed,
            "blessing": self.blessing,
            "runs": self.runs,
            "evaluation": self.evaluation,
            "worst_slices": self.worst_slices,
            "sweep": self.sweep,
            "excluded_columns": self.excluded_columns,
        }


class Trainer:
    """Trains, tracks, registers, evaluates and blesses.

    Args:
        settings: raymlops settings.
        store: the metadata store (resolved from ``settings`` by default).
    """

    def __init__(self, settings: Settings | None = None, *, store: MetadataAPI | None = None):
        self.settings = settings or Settings.resolve()
        self.store = store or connect(self.settings)
        self.registry = ModelRegistry(self.store, BlobStore(self.settings.artifacts_dir))

    # ------------------------------------------------------------------ data
    def prepare(
        self,
        data: Any,
        *,
        target: str,
        key: str | list[str] | None = None,
        schema_path: str | None = None,
        seed: int = 0,
        run_name: str | None = None,
        keep: Sequence[str] = (),
        weight_col: str | None = None,
    ) -> Prepared:
        """Run the data pipeline (no label-quality pass) and load its splits.

        Args:
            schema_path: validate against this schema (a reference); inferred from the
                data when omitted.
            keep: columns to use as features although the schema excludes them (a
                row id, a constant, a timestamp).
            weight_col: a column of sample weights, e.g. the confidence of aggregated or
                weak labels: kept in the splits, never a feature (listed in
                ``excluded_columns``).

        Raises:
            InvalidInputError: the weight column is missing, the target, kept as a
                feature, or has a value that is not a non-negative number.
        """
        pipe = DataPipeline(self.settings, store=self.store, run_name=run_name)
        res = pipe.run(
            data, target=target, key=key, schema_path=schema_path, label_quality=False, seed=seed, keep=keep,
            exclude={weight_col: WEIGHT_REASON} if weight_col else None,
        )
        frames = {s: pipe.load(res.artifacts[f"split_{s}"]) for s in SPLITS}
        if weight_col is not None:
            check_weights(frames["train"], weight_col)
        t = res.artifacts["transform"]
        transform = loads_model(self.registry.blobs.get(t.sha256, what="feature transform"))
        return Prepared(
            train=frames["train"],
            validation=frames["validation"],
            test=frames["test"],
            transform=transform,
            task=res.features["task"],
            target=target,
            artifacts=res.artifacts,
            exclude=tuple(e["column"] for e in res.excluded),
            excluded=tuple(res.excluded),
            weight=weight_col,
        )

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: Any,
        *,
        target: str,
        name: str,
        metric: str | None = None,
        tune_trials: int = 0,
        space: Mapping[str, Any] | None = None,
        slices: Sequence[str] = (),
        key: str | list[str] | None = None,
        schema_path: str | None = None,
        seed: int = 0,
        experiment: str | None = None,
        thresholds: Sequence[Any] | None = None,
        max_drop: float = 0.0,
        prepared: Prepared | None = None,
        keep: Sequence[str] = (),
        weight_col: str | None = None,
    ) -> TrainResult:
        """Baselines, default model, optional sweep; register, evaluate and bless the best.

        With ``weight_col`` every candidate (the baselines, the default model and each
        Tune trial) is fitted with that column as sample weights (probabilistic labels:
        the confidence of aggregated labels, or one row per class weighted by its
        probability); evaluation stays unweighted.

        Raises:
            InvalidInputError: unknown target or metric, constant target, bad search
                space — before anything is registered.
        """
        validate_name(name)
        experiment = experiment or name
        validate_name(experiment, "experiment")
        if metric is not None:
            M.get_metric(metric)  # fail before any work
        param_space = parse_space(space if space is not None else default_space()) if tune_trials else {}
        if tune_trials < 0:
            raise InvalidInputError(f"--tune {tune_trials}: use a number of trials, 0 for none")

        prep = prepared or self.prepare(data, target=target, key=key, schema_path=schema_path, seed=seed, keep=keep, weight_col=weight_col)
        X_tr, y_tr = prep.xy("train")
        w_tr = prep.weights("train")
        X_val, y_val = prep.xy("validation")
        check_target(pd.concat([y_tr, y_val]), target)
        task = prep.task
        m = M.get_metric(metric or M.default_metric(task))
        if task not in m.tasks:
            raise InvalidInputError(f"metric {m.name!r} does not apply to {task}; use one of {', '.join(k for k, v in M.METRICS.items() if task in v.tasks)}")
        inputs = [prep.artifacts["train"], prep.artifacts["transform"]]
        X_te, _ = prep.xy("test")
        specs = [feature_slice(X_te, col) for col in slices]  # a bad slice column fails before any run

        candidates: list[tuple[Any, float, int, str]] = []
        runs: list[dict[str, Any]] = []
        for kind in ("dummy", "linear", "hgb"):
            label = {"dummy": "dummy baseline", "linear": "linear baseline", "hgb": "default model"}[kind]
            params = {"estimator": kind, "target": target, "metric": m.name, **({"weight_col": prep.weight} if prep.weight else {})}
            with start_run(experiment, name=label, params=params, seed=seed, inputs=inputs, store=self.store) as run:
                model = fit_on_features(prep.transform, make_estimator(kind, task, seed=seed), X_tr, y_tr, sample_weight=w_tr)
                scores = M.score_model(model, X_val, y_val, reported_metrics(task, m.name))
                run.log_metrics({f"val_{k}": v for k, v in scores.items()})
            candidates.append((model, scores[m.name], run.id, label))
            runs.append({"id": run.id, "name": label, "metrics": {f"val_{k}": v for k, v in scores.items()}})

        sweep_rows: list[dict[str, Any]] = []
        if tune_trials:
            runtime.init(self.settings)
            refs = {
                "X_train": prep.transform.transform(X_tr),
                "y_train": y_tr.to_numpy(),
                "X_val": prep.transform.transform(X_val),
                "y_val": y_val.to_numpy(),
                "w_train": w_tr,
            }
            sweep = run_sweep(
                hgb_trainable,
                param_space,
                metric=m.name,
                mode="max" if m.greater_is_better else "min",
                num_samples=tune_trials,
                store=self.store,
                experiment=experiment,
                storage_path=str(self.settings.home / "tune"),
                inputs=inputs,
                max_t=HGB_STEPS,
                seed=seed,
                trainable_args={"data": ray.put(refs), "task": task, "metric": m.name},
                tags={"sweep": "hgb"},
                name=f"{experiment}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}",
            )
            sweep_rows = sweep.trials
            runs += [{"id": t["run_id"], "name": f"trial {t['trial_id']}", "metrics": t["metrics"]} for t in sweep.trials]
            if sweep.best_checkpoint:
                est = load_checkpoint_model(sweep.best_checkpoint)
                candidates.append((compose(prep.transform, est), float(sweep.best_metrics[m.name]), sweep.best_run_id, "best trial"))

        best = candidates[0]
        for cand in candidates[1:]:
            if M.is_better(m, cand[1], best[1]):
                best = cand
        model, val_score, run_id, label = best
        record = register_trained(
            self.registry,
            model,
            name,
            X_train=X_tr,
            run=run_id,
            description=f"{label} for {target!r} ({task}), best by validation {m.name}",
            metadata={"task": task, "target": target, "metric": m.name, "validation": {m.name: val_score}, "selected": label},
        )
        evaluation, blessing, worst = self.evaluate_and_bless(
            name, record["version"], prep, metric=m.name, slices=specs, thresholds=thresholds, max_drop=max_drop,
            dummy_score=candidates[0][1],
        )
        metrics = {"validation": {m.name: val_score}, "test": evaluation["overall"]}
        return TrainResult(
            name=name,
            version=record["version"],
            metric=m.name,
            metrics=metrics,
            blessed=blessing["verdict"] == "BLESSED",
            blessing=blessing,
            runs=runs,
            evaluation=evaluation,
            worst_slices=worst,
            sweep=sweep_rows,
            excluded_columns=prep.excluded_columns(),
        )

    def fit_estimator(
        self,
        prep: Prepared,
        *,
        name: str,
        estimator: str,
        params: Mapping[str, Any] | None = None,
        experiment: str | None = None,
        seed: int = 0,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Fit one estimator on prepared data as a tracked run and register it.

        The run has the training split and the feature transform as inputs, so the new
        version's lineage reaches the raw data like :meth:`fit`'s. Not evaluated or
        blessed here: call :meth:`evaluate_and_bless`.

        Returns:
            The registry's record of the new version.
        """
        validate_name(name)
        experiment = experiment or name
        validate_name(experiment, "experiment")
        params = dict(params or {})
        m = M.get_metric(M.default_metric(prep.task))
        X_tr, y_tr = prep.xy("train")
        X_val, y_val = prep.xy("validation")
        inputs = [prep.artifacts["train"], prep.artifacts["transform"]]
        run_params = {"estimator": estimator, "target": prep.target, "metric": m.name, **params, **({"weight_col": prep.weight} if prep.weight else {})}
        with start_run(experiment, name=f"{estimator} {params}" if params else estimator, params=run_params, seed=seed, inputs=inputs, store=self.store) as run:
            model = fit_on_features(
                prep.transform, make_estimator(estimator, prep.task, params, seed=seed), X_tr, y_tr, sample_weight=prep.weights("train")
            )
            scores = M.score_model(model, X_val, y_val, reported_metrics(prep.task, m.name))
            run.log_metrics({f"val_{k}": v for k, v in scores.items()})
        return register_trained(
            self.registry,
            model,
            name,
            X_train=X_tr,
            run=run.id,
            description=description or f"{estimator} for {prep.target!r} ({prep.task})",
            metadata={"task": prep.task, "target": prep.target, "metric": m.name, "validation": {m.name: scores[m.name]}, "selected": estimator},
        )

    # ------------------------------------------------------------------ evaluate
    def evaluate_and_bless(
        self, name: str, version: int, prep: Prepared, *, metric: str, **options: Any
    ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        """Evaluate ``name@version`` on the test split against the champion and record a Blessing.

        ``options`` (``slices``, ``thresholds``, ``max_drop``, ``dummy_score``,
        ``k_worst``) and the result are those of
        :func:`raymlops.training.evaluation_run.evaluate_and_bless`.
        """
        return evaluate_and_bless(
            self.settings, self.store, self.registry, name, version, prep, metric=metric, **options
        )
