"""Runs on the metadata store: params, metrics with step history, tags, artifacts.

A run is an execution of type ``Run`` in an ``Experiment`` context. Every run records
the git commit and dirty flag, the Python and key package versions, its random seed
and the hashes of its input artifacts, without being asked.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.core.names import validate_name
from raymlops.metadata import Artifact, Context, Execution, MetadataAPI, connect
from raymlops.tracking.environment import environment_info, git_info
from raymlops.tracking.metrics import MetricStore

__all__ = ["Run", "start_run", "list_runs"]

_ENV_CACHE: dict[str, Any] = {}


def _env() -> dict[str, Any]:
    if not _ENV_CACHE:
        _ENV_CACHE.update(environment_info())
    return dict(_ENV_CACHE)


class Run:
    """A tracked run. Use :func:`start_run` as a context manager to create one.

    Example:
        >>> from raymlops.metadata import MetadataStore
        >>> store = MetadataStore("sqlite://")
        >>> with start_run("demo", params={"C": 1.0}, seed=7, store=store) as run:
        ...     for step, loss in enumerate([0.9, 0.5]):
        ...         run.log_metric("loss", loss, step=step)
        >>> [m["value"] for m in run.metric_history("loss")]
        [0.9, 0.5]
        >>> store.get_execution(run.id).properties["seed"]
        7
    """

    def __init__(self, store: MetadataAPI, execution: Execution, experiment: Context):
        self.store = store
        self.metrics = store.extension(MetricStore)
        self.execution = execution
        self.experiment = experiment
        self._steps: dict[str, int] = {}

    @property
    def id(self) -> int:
        return self.execution.id  # type: ignore[return-value]

    @property
    def seed(self) -> int:
        return self.execution.properties["seed"]

    @property
    def params(self) -> dict[str, Any]:
        return self.execution.properties["params"]

    def __repr__(self) -> str:
        return f"Run(id={self.id}, experiment={self.experiment.name!r}, state={self.execution.state!r})"

    def _save(self, **kw: Any) -> None:
        self.store.put_execution(self.execution, **kw)

    def log_params(self, params: dict[str, Any]) -> None:
        self.execution.properties["params"] = {**self.params, **params}
        self._save()

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        self.execution.properties["tags"] = {**self.execution.properties["tags"], **tags}
        self._save()

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Append metric points; without ``step`` each key counts its own steps."""
        now = time.time()
        entries = []
        for key, value in metrics.items():
            s = self._steps.get(key, -1) + 1 if step is None else int(step)
            self._steps[key] = s
            entries.append((key, float(value), s, now))
        self.metrics.log_metrics(self.id, entries)

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        self.log_metrics({key: value}, step=step)

    def metric_history(self, key: str | None = None) -> list[dict[str, Any]]:
        """The logged points of ``key`` (or of every key), in step order."""
        return self.metrics.get_metric_history(self.id, key)

    def log_input(self, artifact: Artifact, role: str | None = None) -> None:
        self._record_inputs([artifact])
        self._save(inputs={role: artifact} if role else [artifact])

    def log_artifact(self, artifact: Artifact, role: str | None = None) -> Artifact:
        """Record an artifact this run produced (an OUTPUT in the lineage)."""
        self._save(outputs={role: artifact} if role else [artifact])
        return artifact

    def _record_inputs(self, arts: Sequence[Artifact]) -> None:
        self.execution.properties["inputs"] = self.execution.properties.get("inputs", []) + [
            {"uri": a.uri, "sha256": a.sha256, "type": a.type} for a in arts
        ]

    def end(self, state: str = "COMPLETE", error: str | None = None) -> None:
        self.execution.state = state
        self.execution.error = error
        self.execution.properties["duration_s"] = time.time() - self.execution.properties["start_time"]
        self._save()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None:
            self.end("COMPLETE")
        else:
            state = "CANCELED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
            self.end(state, f"{type(exc).__name__}: {exc}"[:10_000])


def start_run(
    experiment: str = "default",
    *,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    seed: int | None = None,
    inputs: Sequence[Artifact] = (),
    store: MetadataAPI | None = None,
    settings: Settings | None = None,
) -> Run:
    """Start a run in ``experiment``; use it as a context manager to end it.

    The run seeds Python's and NumPy's global random generators with ``seed`` (a
    fresh random seed when omitted) and records it.
    """
    validate_name(experiment, "experiment")
    if store is None:
        store = connect(settings)
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
    elif not isinstance(seed, int) or isinstance(seed, bool):
        raise InvalidInputError(f"invalid seed {seed!r}: use an integer")
    random.seed(seed)
    np.random.seed(seed % (2**32))
    ctx = Context(type="Experiment", name=experiment)
    ex = Execution(
        type="Run",
        name=name,
        state="RUNNING",
        properties={
            "experiment": experiment,
            "params": dict(params or {}),
            "tags": dict(tags or {}),
            "seed": seed,
            "git": git_info(),
            "env": _env(),
            "start_time": time.time(),
            "inputs": [{"uri": a.uri, "sha256": a.sha256, "type": a.type} for a in inputs],
        },
    )
    store.put_execution(ex, inputs=list(inputs), contexts=[ctx])
    return Run(store, ex, ctx)


def list_runs(store: MetadataAPI, *, experiment: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Runs, newest first, with their latest metrics."""
    if experiment is not None:
        ctx = store.get_context("Experiment", experiment)
        if ctx is None:
            return []
        runs = store.get_executions(type="Run", context_id=ctx.id)
    else:
        runs = store.get_executions(type="Run")
    runs = sorted(runs, key=lambda e: e.id, reverse=True)[:limit] if limit else sorted(runs, key=lambda e: e.id, reverse=True)
    metrics = store.extension(MetricStore).latest_metrics([r.id for r in runs])
    return [
        {
            "id": r.id,
            "experiment": r.properties.get("experiment"),
            "name": r.name,
            "state": r.state,
            "params": r.properties.get("params", {}),
            "metrics": metrics.get(r.id, {}),
            "tags": r.properties.get("tags", {}),
            "seed": r.properties.get("seed"),
            "git": r.properties.get("git"),
            "inputs": r.properties.get("inputs", []),
            "start_time": r.properties.get("start_time"),
            "duration_s": r.properties.get("duration_s"),
            "error": r.error,
        }
        for r in runs
    ]
