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
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.metadata import Artifact, MetadataAPI
from raymlops.registry import ModelRegistry, validate_name
from raymlops.tracking import start_run
from raymlops.training import metrics as M
from raymlops.training.models import check_target, fit_on_features, make_estimator

__all__ = ["Trainer", "TrainResult", "hgb_trainable", "default_space", "Prepared"]

HGB_STEPS = 8  # iterations reported per trial (ASHA rungs)
HGB_ITERS_PER_STEP = 25


def default_space() -> dict[str, Any]:
    """The default HistGradientBoosting search space."""
    return {
        "learning_rate": {"loguniform": [0.02, 0.3]},
        "max_leaf_nodes": {"randint": [8, 64]},
        "min_samples_leaf": {"randint": [5, 50]},
        "l2_regularization": {"uniform": [0.0, 1.0]},
    }


def hgb_trainable(config: dict[str, Any], *, data: dict[str, Any], task: str, metric: str) -> None:
    """A Tune trainable: HistGradientBoosting grown in steps, validation metric per step."""
    from raymlops.training.tune import report

    params = {k: v for k, v in config.items() if k != "seed"}
    est = make_estimator("hgb", task, {**params, "early_stopping": False, "warm_start": True}, seed=int(config.get("seed", 0)))
    m = M.get_metric(metric)
    for step in range(1, HGB_STEPS + 1):
        est.set_params(max_iter=step * HGB_ITERS_PER_STEP)
        est.fit(data["X_train"], data["y_train"], sample_weight=data.get("w_train"))
        value = M.score_model(est, data["X_val"], data["y_val"], [m.name])[m.name]
        report({m.name: value, "n_iter": int(est.n_iter_)}, model=est)


@dataclass
class Prepared:
    """Data ready for training: the splits, the fitted transform and their artifacts."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    transform: Any
    task: str
    target: str
    artifacts: dict[str, Artifact]
    exclude: tuple[str, ...] = ()
    weight: str | None = None

    def xy(self, split: str) -> tuple[pd.DataFrame, pd.Series]:
        df = getattr(self, split)
        drop = [self.target, *self.exclude, *([self.weight] if self.weight else []), *[c for c in df.columns if str(c).startswith("__")]]
        return df.drop(columns=drop), df[self.target]

    def weights(self, split: str) -> np.ndarray | None:
        """The sample weights of ``split`` (None without a weight column)."""
        if self.weight is None:
            return None
        return getattr(self, split)[self.weight].to_numpy(dtype=float)


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
        }


class Trainer:
    """Trains, tracks, registers, evaluates and blesses.

    Args:
        settings: raymlops settings.
        store: the metadata store (resolved from ``settings`` by default).
    """

    def __init__(self, settings: Settings | None = None, *, store: MetadataAPI | None = None):
        from raymlops.metadata import connect
        from raymlops.registry import BlobStore

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
        weight_col: str | None = None,
    ) -> Prepared:
        """Run the data pipeline (no label-quality pass) and load its splits.

        Args:
            schema_path: validate against this schema (a reference); inferred from the
                data when omitted.
            weight_col: a column of sample weights (not a feature), e.g. the confidence
                of aggregated or weak labels.

        Raises:
            InvalidInputError: the weight column is missing, not numeric, negative or empty.
        """
        from raymlops.data.pipeline import DataPipeline

        pipe = DataPipeline(self.settings, store=self.store, run_name=run_name)
        res = pipe.run(
            data, target=target, key=key, schema_path=schema_path, label_quality=False, seed=seed,
            exclude=(weight_col,) if weight_col else (),
        )
        frames = {s: pipe.load(res.artifacts[f"split_{s}"]) for s in ("train", "validation", "test")}
        from raymlops.registry import BlobStore, loads_model

        t = res.artifacts["transform"]
        transform = loads_model(BlobStore(self.settings.artifacts_dir).get(t.sha256, what="feature transform"))
        from raymlops.data.schema import Schema

        keys = tuple(Schema.load(res.artifacts["schema"].uri[len("file://") :]).key or ())
        if weight_col is not None:
            _check_weights(frames["train"], weight_col)
        return Prepared(
            train=frames["train"],
            validation=frames["validation"],
            test=frames["test"],
            transform=transform,
            task=res.features["task"],
            target=target,
            artifacts=res.artifacts,
            exclude=keys,
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
        weight_col: str | None = None,
    ) -> TrainResult:
        """Baselines, default model, optional sweep; register, evaluate and bless the best.

        With ``weight_col`` every candidate is fitted with that column as sample weights
        (probabilistic labels: the confidence of aggregated labels, or one row per class
        weighted by its probability); evaluation stays unweighted.

        Raises:
            InvalidInputError: unknown target or metric, constant target, bad search
                space — before anything is registered.
        """
        from raymlops.training.search_space import parse_space

        validate_name(name)
        experiment = experiment or name
        validate_name(experiment, "experiment")
        if metric is not None:
            M.get_metric(metric)  # fail before any work
        param_space = parse_space(space if space is not None else default_space()) if tune_trials else {}
        if tune_trials < 0:
            raise InvalidInputError(f"--tune {tune_trials}: use a number of trials, 0 for none")

        prep = prepared or self.prepare(data, target=target, key=key, schema_path=schema_path, seed=seed, weight_col=weight_col)
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
        specs = [_slice_spec(X_te, col) for col in slices]  # a bad slice column fails before any run

        candidates: list[tuple[Any, float, int, str]] = []
        runs: list[dict[str, Any]] = []
        for kind in ("dummy", "linear", "hgb"):
            label = {"dummy": "dummy baseline", "linear": "linear baseline", "hgb": "default model"}[kind]
            params = {"estimator": kind, "target": target, "metric": m.name, **({"weight_col": prep.weight} if prep.weight else {})}
            with start_run(experiment, name=label, params=params, seed=seed, inputs=inputs, store=self.store) as run:
                model = fit_on_features(prep.transform, make_estimator(kind, task, seed=seed), X_tr, y_tr, sample_weight=w_tr)
                scores = M.score_model(model, X_val, y_val, _metric_names(task, m.name))
                run.log_metrics({f"val_{k}": v for k, v in scores.items()})
            candidates.append((model, scores[m.name], run.id, label))
            runs.append({"id": run.id, "name": label, "metrics": {f"val_{k}": v for k, v in scores.items()}})

        sweep_rows: list[dict[str, Any]] = []
        if tune_trials:
            import ray

            from raymlops.core import runtime
            from raymlops.training.tune import load_checkpoint_model, run_sweep

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
                from raymlops.training.models import compose

                est = load_checkpoint_model(sweep.best_checkpoint)
                candidates.append((compose(prep.transform, est), float(sweep.best_metrics[m.name]), sweep.best_run_id, "best trial"))

        best = candidates[0]
        for cand in candidates[1:]:
            if M.is_better(m, cand[1], best[1]):
                best = cand
        model, val_score, run_id, label = best
        record = self.registry.register(
            model,
            name,
            input_example=X_tr.head(5),
            reference=X_tr,
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
        )

    # ------------------------------------------------------------------ evaluate
    def evaluate_and_bless(
        self,
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
        """Evaluate ``name@version`` on the test split against the champion and record a Blessing."""
        from raymlops.training import evaluate as E
        from raymlops.training.slices import find_worst_slices

        m = M.get_metric(metric)
        X_te, y_te = prep.xy("test")
        candidate_model = self.registry.load(f"{name}@{version}")
        specs = [_slice_spec(X_te, s) if isinstance(s, str) else s for s in slices]
        names = _metric_names(prep.task, m.name)
        cand = E.evaluate(candidate_model, X_te, y_te, metrics=names, slices=specs)
        champion = self.store.get_aliases(name).get("champion")
        baseline = None
        baseline_note = "no champion yet: change thresholds skipped"
        if champion is not None and champion != version:
            try:
                baseline = E.evaluate(self.registry.load(f"{name}@champion"), X_te, y_te, metrics=names, slices=specs)
                baseline_note = f"compared with champion {name}@{champion}"
            except Exception as exc:  # noqa: BLE001 - an incompatible champion cannot be compared
                baseline_note = f"champion {name}@{champion} could not be evaluated on this data ({type(exc).__name__}): change thresholds skipped"
        checks = list(thresholds or [])
        if dummy_score is not None and not any(getattr(t, "metric", None) == m.name and not isinstance(t, E.ChangeThreshold) for t in checks):
            bound = {"lower": dummy_score} if m.greater_is_better else {"upper": dummy_score}
            checks.append(E.Threshold(metric=m.name, **bound))
        checks.append(E.ChangeThreshold(metric=m.name, min_improvement=-abs(max_drop)))
        blessing = E.bless(cand, baseline, checks)

        errors = _errors(candidate_model, X_te, y_te, prep.task)
        worst = [s.to_dict() for s in find_worst_slices(X_te.reset_index(drop=True), errors, k=k_worst)]

        model_art = self.store.get_artifact(self.registry.get(f"{name}@{version}")["artifact_id"])
        inputs: dict[str, Artifact] = {"model": model_art, "examples": prep.artifacts["split_test"]}
        if baseline is not None:
            inputs["baseline"] = self.store.get_artifact(self.registry.get(f"{name}@champion")["artifact_id"])
        report = {
            "model": f"{name}@{version}",
            "baseline": baseline_note,
            "evaluation": cand.to_dict(),
            "baseline_evaluation": baseline.to_dict() if baseline is not None else None,
            "blessing": blessing.to_dict(),
            "worst_slices": worst,
        }
        path = self.settings.home / "evaluations" / f"{name}-{version}-{dt.datetime.now().strftime('%Y%m%d%H%M%S%f')}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, default=_json_default))
        from raymlops.registry.blobs import sha256_file

        with self.store.run_execution("Evaluate", name=f"evaluate {name}@{version}", inputs=inputs) as step:
            step.add_output(
                Artifact(
                    type="Blessing",
                    uri=f"file://{path}",
                    sha256=sha256_file(path),
                    name=f"{name}@{version}",
                    properties={
                        "verdict": blessing.verdict,
                        "model_name": name,
                        "version": version,
                        "failed": [c.get("message") for c in blessing.to_dict()["failed"]],
                        "baseline": baseline_note,
                    },
                ),
                role="blessing",
            )
        bl = blessing.to_dict()
        bl["baseline"] = baseline_note
        bl["report"] = str(path)
        return {"overall": cand.overall, "by_slice": cand.by_slice, "counts": cand.counts}, bl, worst


def _check_weights(df: pd.DataFrame, col: str) -> None:
    """Sample weights must be numbers, not negative, not empty."""
    if col not in df.columns:
        raise InvalidInputError(f"weight column {col!r} is not in the data; columns: {', '.join(map(str, df.columns))}")
    w = pd.to_numeric(df[col], errors="coerce")
    bad = w.isna() | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        v = df[col].iloc[i]
        v = None if pd.isna(v) else (v.item() if isinstance(v, np.generic) else v)
        raise InvalidInputError(f"weight column {col!r} row {i}: {v!r} is not a non-negative number; fix or drop the row")


def _metric_names(task: str, primary: str) -> list[str]:
    extra = ["accuracy", "f1"] if task == "classification" else ["rmse", "mae", "r2"]
    return [primary, *[e for e in extra if e != primary]]


def _slice_spec(X: pd.DataFrame, col: str):
    from raymlops.training.evaluate import SliceSpec

    if col not in X.columns:
        raise InvalidInputError(f"slice column {col!r} is not a feature; features: {', '.join(map(str, X.columns))}")
    return SliceSpec(column=col)  # numeric columns with many values get quantile buckets


def _errors(model: Any, X: pd.DataFrame, y: pd.Series, task: str) -> np.ndarray:
    pred = model.predict(X)
    if task == "classification":
        return (np.asarray(pred) != y.to_numpy()).astype(float)
    return np.abs(np.asarray(pred, dtype=float) - y.to_numpy(dtype=float))


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)
