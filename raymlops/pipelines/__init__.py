"""Pipelines on Ray with content-addressed caching, triggers, and the closed model-decay loop.

Steps are Python functions (:func:`step`); the DAG follows from their inputs and
outputs (:class:`Pipeline`); :func:`run_pipeline` runs each step as a Ray task with its
own resources, records every step as an execution in the metadata store, and reuses a
step's outputs when its cache key (code, parameters, input *content*, declared env and
package versions) matches a verified earlier result. Triggers (schedules, new data,
drift alerts) start runs from a named detached actor; the loop binds a served model to
the built-in ``retrain`` pipeline and a rollout policy.

The pure core (``step``, ``dag``, ``cache_key``, ``hashing``, ``cache``, ``leases``,
``run_state``, ``scheduler``, ``triggers``) imports no Ray; ``executor`` and
``trigger_actor`` are the Ray shell.
"""

from __future__ import annotations

from raymlops.pipelines.cache_key import UncacheableError, step_key
from raymlops.pipelines.dag import Pipeline
from raymlops.pipelines.executor import RayBackend, run_pipeline
from raymlops.pipelines.loading import BUILTIN_PIPELINES, load_pipeline, parse_params
from raymlops.pipelines.retrain import RetrainParams, build_retrain
from raymlops.pipelines.scheduler import LocalBackend, RunResult, StepReport
from raymlops.pipelines.step import ArtifactRef, Step, StepContext, StepDefinitionError, step
from raymlops.pipelines.steps import STEPS

__all__ = [
    "BUILTIN_PIPELINES",
    "STEPS",
    "ArtifactRef",
    "LocalBackend",
    "Pipeline",
    "RayBackend",
    "RetrainParams",
    "RunResult",
    "Step",
    "StepContext",
    "StepDefinitionError",
    "StepReport",
    "UncacheableError",
    "build_retrain",
    "load_pipeline",
    "parse_params",
    "run_pipeline",
    "step",
    "step_key",
]
