"""Running pipelines on Ray: every step a Ray task with its own resources.

:func:`run_pipeline` is the entry point of the Python API, the CLI, the Ray job
(``jobs/pipeline_run.py``) and the trigger actor. The driver (the loop in
:mod:`raymlops.pipelines.scheduler`) runs where it is called: in this process on an
embedded Ray, in this process connected to a cluster (``address``), or on the cluster
as a submitted Ray job. Steps that do not depend on each other run at the same time as
separate tasks, each with the ``resources`` it declares (default: one CPU, Ray's
default). A run whose steps are all cached starts no task, and no Ray either.

Step functions travel to the workers pickled; the project's own modules they use (not
raymlops, which the workers have installed) are pickled by value, so a pipeline file and
its helpers need not be importable on the workers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ray
from ray import cloudpickle

from raymlops.core import runtime
from raymlops.core.config import Settings
from raymlops.core.errors import NotFoundError
from raymlops.metadata import MetadataAPI, MetadataStore, connect
from raymlops.pipelines.cache_key import CodeFingerprint
from raymlops.pipelines.dag import Pipeline
from raymlops.pipelines.loading import load_pipeline
from raymlops.pipelines.run_state import RunState
from raymlops.pipelines.scheduler import Backend, LocalBackend, RunResult, default_roots, drive
from raymlops.pipelines.task import StepCall, execute

__all__ = ["RayBackend", "run_pipeline"]

_execute = ray.remote(execute)


class RayBackend:
    """Each step a Ray task (``execute``) with the step's resources; Ray starts on first use."""

    def __init__(self, settings: Settings, pipeline: Pipeline | None = None, roots: Sequence[str] | None = None):
        self.settings = settings
        if pipeline is not None:
            fp = CodeFingerprint(roots if roots is not None else default_roots(pipeline))
            for s in pipeline.steps.values():
                try:
                    for mod in fp.local_modules(s.fn):
                        cloudpickle.register_pickle_by_value(mod)
                except Exception:  # noqa: BLE001 - by reference, then; the key fails loudly if it must
                    pass

    def submit(self, call: StepCall):
        runtime.init(self.settings)
        opts: dict[str, Any] = {"num_cpus": 1, **call.step.spec.resource_options}
        if call.step.spec.retries:
            opts.update(max_retries=call.step.spec.retries, retry_exceptions=True)
        else:
            opts["max_retries"] = 0
        return _execute.options(name=f"pipeline-step:{call.step.name}", **opts).remote(call)

    def wait(self, handles: list[Any], timeout: float):
        ready, _ = ray.wait(handles, num_returns=len(handles), timeout=timeout)
        out = []
        for ref in ready:
            try:
                out.append((ref, ray.get(ref), None))
            except ray.exceptions.RayTaskError as exc:
                out.append((ref, None, exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else exc))
            except ray.exceptions.RayError as exc:  # a worker died, the task was cancelled, ...
                out.append((ref, None, exc))
        return out


def run_pipeline(
    pipeline: Pipeline | Callable[..., Pipeline] | str,
    params: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    store: MetadataAPI | None = None,
    backend: str | Backend = "ray",
    run_id: str | None = None,
    resume: str | None = None,
    use_cache: bool = True,
    cause: Mapping[str, Any] | None = None,
    roots: Sequence[str] | None = None,
    say: Callable[[str], None] | None = None,
) -> RunResult:
    """Run a pipeline and return its result (every step\'s status, execution, key, outputs).

    Args:
        pipeline: a :class:`Pipeline`, a builder ``f(params) -> Pipeline``, a built-in
            name (``retrain``) or ``FILE.py[:ATTR]``.
        params: run parameters.
        settings: raymlops settings (default: from the environment).
        store: the metadata store (default: the settings\' store, opened directly).
        backend: ``"ray"`` (a task per step), ``"local"`` (threads) or a backend object.
        run_id: the id of the new run.
        resume: continue this unfinished run (its finished steps are kept).
        use_cache: False runs every step.
        cause: why the run happens (recorded with it).
        roots: project folders whose code the cache keys cover (default: each step\'s project).
        say: progress lines.

    Raises:
        StepDefinitionError: the pipeline or its parameters are wrong (nothing recorded).
    """
    settings = settings or Settings.resolve()
    settings.ensure_home()
    if store is None:
        store = MetadataStore(settings.metadata_uri) if runtime.in_ray_worker() else connect(settings)
    params = dict(params or {})
    if resume:
        prior = RunState.find(store, resume)
        if prior is None:
            raise NotFoundError(what="pipeline run", name=resume, hint="list runs with `raymlops pipeline list`")
        params = {**(prior.properties.get("params") or {}), **params}
    pipe, rest, strict = load_pipeline(pipeline, params)
    if backend == "ray":
        backend = RayBackend(settings, pipe, roots)
    elif backend == "local":
        backend = LocalBackend()
    return drive(
        pipe, rest, store=store, home=str(settings.home), backend=backend, settings=settings.model_dump(mode="json"),
        run_id=run_id, resume=resume, use_cache=use_cache, cause=cause, roots=roots, strict_params=strict, say=say,
    )  # fmt: skip
