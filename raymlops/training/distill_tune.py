"""Knowledge-distillation sweeps on Ray Tune: a registered teacher, a grid of students.

The teacher (a registered model) labels the training split once in the driver; every
trial trains a student — the pipeline's fitted feature transform, then a small
scikit-learn model — on the teacher's outputs softened at temperature ``t`` plus the
hard labels weighted by ``alpha`` (:mod:`raymlops.training.distill`), and reports
validation accuracy, model size and single-row latency. The Pareto front over (accuracy
↑, latency ↓, size ↓) is marked, and the most accurate student within the latency
budget is registered as an output of its trial's run, whose inputs are the teacher and
the training data — so the student's lineage reaches its teacher.

:func:`sweep_payload` is what every trial is given and :func:`fit_student` what a trial
computes (neither touches Ray); :func:`distill_trainable` is the Tune trainable around it
and :func:`distill_sweep` runs the sweep and registers the chosen student.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import ray

from raymlops.core import runtime
from raymlops.core.errors import InvalidInputError
from raymlops.core.names import validate_name
from raymlops.training import distill as D
from raymlops.training.models import compose
from raymlops.training.registration import register_trained
from raymlops.training.tune import load_checkpoint_model, parse_space, report, run_sweep

__all__ = ["default_distill_space", "distill_sweep", "distill_trainable", "fit_student", "sweep_payload"]


def default_distill_space() -> dict[str, Any]:
    """Temperature, hard-label weight and student capacity (hidden units of a small MLP)."""
    return {
        "temperature": {"choice": [1.0, 2.0, 3.0, 4.0]},
        "alpha": {"uniform": [0.05, 0.5]},
        "capacity": {"choice": [4, 8, 16, 32]},
        "student": "mlp",
    }


def fit_student(config: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[Any, dict[str, float]]:
    """Train one student of a sweep; returns the composed model and its figures."""
    cfg = D.DistillationConfig(
        temperature=float(config["temperature"]),
        alpha=float(config["alpha"]),
        student=str(config.get("student", "mlp")),
        capacity=config.get("capacity"),
    )
    soft = D.soften(data["teacher_logits"], cfg.temperature)
    X_rep, y_rep, w = D.distillation_set(
        data["X_train"],
        data["y_train"],
        soft,
        alpha=cfg.alpha,
        temperature=cfg.temperature,
        classes=data["classes"],
        normalize=cfg.normalize_weights,
    )
    student = D.fit_weighted(D.make_student(cfg, seed=int(config.get("seed", 0))), X_rep, y_rep, w)
    model = compose(data["transform"], student)
    accuracy = float(np.mean(model.predict(data["X_val_raw"]) == data["y_val"]))
    return model, {
        "accuracy": accuracy,
        "size_bytes": D.model_size_bytes(model),
        "latency_ms": D.single_row_latency_ms(model, data["X_val_raw"], repeats=100),
    }


def distill_trainable(config: dict[str, Any], *, data: dict[str, Any]) -> None:
    """A Tune trainable: one student, reported once with its checkpoint."""
    model, figures = fit_student(config, data)
    report(figures, model=model)


def sweep_payload(teacher_model: Any, teacher_cols: list[str], prep: Any) -> dict[str, Any]:
    """What every trial needs, computed once in the driver: the teacher's logits and the data."""
    X_tr, y_tr = prep.xy("train")
    X_val, y_val = prep.xy("validation")
    return {
        # the teacher reads the columns it was trained on, excluded ones too (an old teacher may use a row id)
        "teacher_logits": D.teacher_logits(teacher_model, prep.train[teacher_cols]),
        "X_train": prep.transform.transform(X_tr),
        "y_train": y_tr.to_numpy(),
        "classes": list(teacher_model.classes_),
        "transform": prep.transform,
        "X_val_raw": X_val,
        "y_val": y_val.to_numpy(),
    }


def distill_sweep(
    trainer: Any,
    data: Any,
    *,
    target: str,
    teacher: str,
    name: str,
    trials: int = 8,
    latency_budget_ms: float | None = None,
    space: Mapping[str, Any] | None = None,
    seed: int = 0,
    schema_path: str | None = None,
    prepared: Any = None,
    experiment: str | None = None,
    keep: Sequence[str] = (),
) -> dict[str, Any]:
    """Sweep students of ``teacher`` and register the best within the latency budget.

    Args:
        trainer: a :class:`~raymlops.training.train.Trainer` (settings, store, registry).
        data: the training data (as for ``Trainer.fit``).
        teacher: a model reference, ``NAME@VERSION`` or ``NAME@ALIAS``.
        trials: number of Tune trials.
        latency_budget_ms: register the most accurate student at most this slow.

    Returns:
        ``{"name", "version", "teacher", "trials": [{"temperature", "alpha", "capacity",
        "accuracy", "latency_ms", "size_bytes", "pareto", "run_id"}], ...}``; ``version``
        is ``None`` when no student fits the budget.

    Raises:
        ModelNotFoundError: the teacher does not exist (before any work).
        InvalidInputError: bad trial count, budget or search space.
    """
    validate_name(name)
    if trials < 1:
        raise InvalidInputError(f"--trials {trials}: use at least 1 trial")
    if latency_budget_ms is not None and latency_budget_ms <= 0:
        raise InvalidInputError(f"--latency-budget-ms {latency_budget_ms}: use a positive number of milliseconds")
    teacher_rec = trainer.registry.get(teacher)  # ModelNotFoundError before any work
    teacher_model = trainer.registry.load(teacher)
    if getattr(teacher_model, "classes_", None) is None:
        raise InvalidInputError(f"teacher {teacher} is not a classifier (no classes_): distillation needs class probabilities")
    param_space = parse_space(space if space is not None else default_distill_space())

    prep = prepared or trainer.prepare(data, target=target, schema_path=schema_path, seed=seed, keep=keep)
    if prep.task != "classification":
        raise InvalidInputError(f"target {target!r} is a regression target: distillation here is for classifiers")
    X_tr, y_tr = prep.xy("train")
    X_val, y_val = prep.xy("validation")
    missing = [c["name"] for c in teacher_rec["signature"].get("inputs", []) if c["name"] not in prep.train.columns]
    if missing:
        raise InvalidInputError(f"teacher {teacher} needs columns this data lacks: {', '.join(missing)}")
    teacher_cols = [c["name"] for c in teacher_rec["signature"].get("inputs", [])] or list(X_tr.columns)
    runtime.init(trainer.settings)
    payload = sweep_payload(teacher_model, teacher_cols, prep)
    teacher_art = trainer.store.get_artifact(teacher_rec["artifact_id"])
    experiment = experiment or f"{name}-distill"
    sweep = run_sweep(
        distill_trainable,
        param_space,
        metric="accuracy",
        mode="max",
        num_samples=trials,
        store=trainer.store,
        experiment=experiment,
        storage_path=str(trainer.settings.home / "tune"),
        inputs=[teacher_art, prep.artifacts["train"], prep.artifacts["transform"]],
        scheduler="fifo",
        seed=seed,
        trainable_args={"data": ray.put(payload)},
        tags={"sweep": "distillation", "teacher": teacher},
        name=f"{experiment}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}",
    )
    rows = []
    for t in sweep.trials:
        if t["error"] or "accuracy" not in t["metrics"]:
            continue
        rows.append(
            {
                "temperature": t["config"].get("temperature"),
                "alpha": t["config"].get("alpha"),
                "capacity": t["config"].get("capacity"),
                "student": t["config"].get("student", "mlp"),
                "accuracy": t["metrics"]["accuracy"],
                "latency_ms": t["metrics"]["latency_ms"],
                "size_bytes": int(t["metrics"]["size_bytes"]),
                "run_id": t["run_id"],
                "trial_id": t["trial_id"],
            }
        )
    for row, on_front in zip(rows, D.pareto_front(rows)):
        row["pareto"] = bool(on_front)
    teacher_size = D.model_size_bytes(teacher_model)
    teacher_latency = D.single_row_latency_ms(teacher_model, prep.validation[teacher_cols], repeats=100)
    teacher_acc = float(np.mean(teacher_model.predict(prep.validation[teacher_cols]) == y_val.to_numpy()))
    best = D.pick_best(rows, metric="accuracy", latency_budget_ms=latency_budget_ms)
    out: dict[str, Any] = {
        "name": name,
        "version": None,
        "teacher": f"{teacher_rec['name']}@{teacher_rec['version']}",
        "teacher_accuracy": teacher_acc,
        "teacher_size_bytes": teacher_size,
        "teacher_latency_ms": teacher_latency,
        "latency_budget_ms": latency_budget_ms,
        "trials": rows,
        "excluded_columns": prep.excluded_columns(),
    }
    if best is None:
        out["message"] = f"no student is within the latency budget of {latency_budget_ms} ms; nothing registered"
        return out
    ckpt = sweep.checkpoints.get(best["trial_id"])
    if ckpt is None:
        raise InvalidInputError(f"trial {best['trial_id']} left no checkpoint to register")
    student = load_checkpoint_model(ckpt)
    record = register_trained(
        trainer.registry,
        student,
        name,
        X_train=X_tr,
        run=best["run_id"],
        description=f"student of {out['teacher']} (t={best['temperature']}, alpha={best['alpha']:.3f}, capacity={best['capacity']})",
        metadata={
            "task": "classification",
            "target": target,
            "metric": "accuracy",
            "validation": {"accuracy": best["accuracy"]},
            "teacher": out["teacher"],
            "distillation": {k: best[k] for k in ("temperature", "alpha", "capacity", "student")},
        },
    )
    _, blessing, _ = trainer.evaluate_and_bless(name, record["version"], prep, metric="accuracy")
    out.update(
        {
            "version": record["version"],
            "best": best,
            "size_ratio": teacher_size / best["size_bytes"],
            "latency_ratio": teacher_latency / best["latency_ms"] if best["latency_ms"] else None,
            "blessing": blessing["verdict"],
        }
    )
    return out

