"""Sweeps on Ray Tune, with every trial a tracked run.

The shell around Tune: :func:`parse_space` builds Tune's ``param_space`` from a search
space checked by :mod:`raymlops.training.search_space`; a callback turns each trial into
a ``Run`` in the metadata store (params, per-iteration metrics, state); and
:func:`run_sweep` sizes the concurrency to the cluster's CPUs, picks the scheduler (ASHA
or FIFO) and the search (random or grid) with a seed, and returns the best trial with its
run id and checkpoint. What a trial computes is the caller's trainable.

Example:
    >>> space = parse_space({"lr": {"loguniform": [0.01, 0.3]}, "leaves": {"grid": [8, 16]}, "fixed": 3})
    >>> type(space["lr"]).__name__, space["leaves"], space["fixed"]
    ('Float', {'grid_search': [8, 16]}, 3)
"""

from __future__ import annotations

import math
import os
import pickle
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ray
from ray import tune
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
from ray.tune.search import BasicVariantGenerator

from raymlops.core.values import plain
from raymlops.metadata import Artifact, MetadataAPI
from raymlops.tracking import Run, start_run
from raymlops.training.search_space import Distribution, check_space, read_space, space_error

__all__ = [
    "SweepResult",
    "TrackingCallback",
    "cpus_for_trials",
    "load_checkpoint_model",
    "load_space",
    "parse_space",
    "report",
    "run_sweep",
]

_INTERNAL = {
    "training_iteration",
    "time_this_iter_s",
    "time_total_s",
    "timestamp",
    "time_since_restore",
    "iterations_since_restore",
    "pid",
    "done",
}


_BUILDERS: Mapping[str, Callable[..., Any]] = {
    "uniform": tune.uniform,
    "loguniform": tune.loguniform,
    "randint": tune.randint,
    "qrandint": tune.qrandint,
    "normal": tune.randn,
    "choice": lambda *values: tune.choice(list(values)),
    "grid": lambda *values: tune.grid_search(list(values)),
}
"""Tune's constructor of every distribution of :data:`~raymlops.training.search_space.DISTRIBUTIONS`."""


def parse_space(space: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a dict of distributions into a Ray Tune ``param_space``.

    Raises:
        InvalidInputError: an entry names an unknown distribution or bad bounds (see
            :func:`~raymlops.training.search_space.check_space`), or Tune refuses them.
    """
    out: dict[str, Any] = {}
    for name, entry in check_space(space).items():
        if not isinstance(entry, Distribution):
            out[name] = entry  # a constant, or a Tune object already
            continue
        try:
            out[name] = _BUILDERS[entry.kind](*entry.args)
        except (TypeError, ValueError) as exc:
            raise space_error(name, space[name], str(exc)) from None
    return out


def load_space(path: str) -> dict[str, Any]:
    """Read a YAML (or JSON) search space file and parse it (see :func:`parse_space`)."""
    return parse_space(read_space(path))


def _numeric(metrics: Mapping[str, Any]) -> dict[str, float]:
    """A trial's own figures: numeric values, without Tune's bookkeeping."""
    return {
        k: float(v)
        for k, v in metrics.items()
        if k not in _INTERNAL and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    }


class TrackingCallback(tune.Callback):
    """Records every trial as a run: params at start, metrics per iteration, state at the end.

    Runs in the Tune driver, so it writes to the store directly.
    """

    def __init__(
        self,
        store: MetadataAPI,
        experiment: str,
        *,
        inputs: Sequence[Artifact] = (),
        tags: Mapping[str, Any] | None = None,
        seed: int = 0,
    ):
        self.store = store
        self.experiment = experiment
        self.inputs = list(inputs)
        self.tags = dict(tags or {})
        self.seed = seed
        self.runs: dict[str, Run] = {}

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        if trial.trial_id in self.runs:
            return
        config = plain(dict(trial.config))
        run = start_run(
            self.experiment,
            name=f"trial {trial.trial_id}",
            params=config,
            tags={**self.tags, "trial_id": trial.trial_id},
            seed=int(config.get("seed", self.seed)),
            inputs=self.inputs,
            store=self.store,
        )
        self.runs[trial.trial_id] = run

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        run = self.runs.get(trial.trial_id)
        if run is None:
            return
        metrics = _numeric(result)
        if metrics:
            run.log_metrics(metrics, step=int(result.get("training_iteration", 0)))

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        run = self.runs.get(trial.trial_id)
        if run is not None and run.execution.state == "RUNNING":
            run.set_tags({"iterations": int((trial.last_result or {}).get("training_iteration", 0))})
            run.end("COMPLETE")

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        run = self.runs.get(trial.trial_id)
        if run is not None and run.execution.state == "RUNNING":
            err = getattr(trial, "error_msg", None) or "trial failed"
            run.end("FAILED", str(err).strip().splitlines()[-1][:2000] if str(err).strip() else "trial failed")


@dataclass
class SweepResult:
    """The outcome of a sweep: the best trial and every trial's figures."""

    best_config: dict[str, Any]
    best_metrics: dict[str, Any]
    best_run_id: int
    best_checkpoint: str | None
    trials: list[dict[str, Any]] = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)
    checkpoints: dict[str, str] = field(default_factory=dict)


def cpus_for_trials(cpus_per_trial: float = 1.0) -> int:
    """How many trials run at once: the cluster's CPUs over each trial's share."""
    total = ray.cluster_resources().get("CPU", 1.0)
    return max(1, int(total // cpus_per_trial))


def report(metrics: Mapping[str, Any], model: Any = None) -> None:
    """Report a trial's metrics (and its current model as the checkpoint) to Tune."""
    if model is None:
        tune.report(dict(metrics))
        return
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "model.pkl"), "wb") as f:
            pickle.dump(model, f, protocol=5)
        tune.report(dict(metrics), checkpoint=tune.Checkpoint.from_directory(d))


def load_checkpoint_model(path: str) -> Any:
    with open(os.path.join(path, "model.pkl"), "rb") as f:
        return pickle.load(f)  # noqa: S301 - written by this sweep's own trials


def run_sweep(
    trainable: Callable[..., None],
    param_space: Mapping[str, Any],
    *,
    metric: str,
    mode: str,
    num_samples: int,
    store: MetadataAPI,
    experiment: str,
    storage_path: str,
    inputs: Sequence[Artifact] = (),
    max_t: int | None = None,
    scheduler: str = "asha",
    seed: int = 0,
    cpus_per_trial: float = 1.0,
    trainable_args: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> SweepResult:
    """Run a sweep and return the best trial.

    Args:
        trainable: a Tune function trainable ``(config, **trainable_args)`` that calls
            :func:`report` once per iteration.
        param_space: Tune's param space (see :mod:`raymlops.training.search_space`);
            grid entries are expanded, random ones sampled ``num_samples`` times.
        metric, mode: what "best" means (``max`` or ``min``).
        max_t: iterations per trial, for ASHA.
        scheduler: ``asha`` (early stopping of poor trials) or ``fifo``.
        seed: seeds the search and each trial (``config["seed"]``).
        cpus_per_trial: each trial's CPU share; concurrency is the cluster's CPUs over it.
    """
    space = {**dict(param_space), "seed": seed}
    sched = (
        ASHAScheduler(max_t=max_t or 1, grace_period=1, reduction_factor=2)
        if scheduler == "asha" and (max_t or 1) > 1
        else FIFOScheduler()
    )
    callback = TrackingCallback(store, experiment, inputs=inputs, tags=tags, seed=seed)
    fn = tune.with_parameters(trainable, **dict(trainable_args or {}))
    tuner = tune.Tuner(
        tune.with_resources(fn, {"cpu": cpus_per_trial}),
        param_space=space,
        tune_config=tune.TuneConfig(
            metric=metric,
            mode=mode,
            num_samples=num_samples,
            scheduler=sched,
            search_alg=BasicVariantGenerator(random_state=seed),
            max_concurrent_trials=cpus_for_trials(cpus_per_trial),
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name=name or experiment,
            storage_path=storage_path,
            verbose=0,
            callbacks=[callback],
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
        ),
    )
    grid = tuner.fit()
    trials = []
    checkpoints: dict[str, str] = {}
    for res in grid:
        trial_id = res.metrics.get("trial_id") if res.metrics else None
        run = callback.runs.get(trial_id) if trial_id else None
        if trial_id and res.checkpoint is not None:
            checkpoints[trial_id] = res.checkpoint.path
        trials.append(
            {
                "trial_id": trial_id,
                "run_id": run.id if run else None,
                "config": plain({k: v for k, v in res.config.items()}),
                "metrics": _numeric(res.metrics or {}),
                "iterations": (res.metrics or {}).get("training_iteration"),
                "error": str(res.error).splitlines()[0] if res.error else None,
            }
        )
    best = grid.get_best_result(metric=metric, mode=mode, scope="last")
    best_run = callback.runs[best.metrics["trial_id"]]
    return SweepResult(
        best_config=plain(dict(best.config)),
        best_metrics=_numeric(best.metrics),
        best_run_id=best_run.id,
        best_checkpoint=best.checkpoint.path if best.checkpoint else None,
        trials=trials,
        run_ids=[r.id for r in callback.runs.values()],
        checkpoints=checkpoints,
    )
