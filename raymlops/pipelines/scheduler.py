"""The driver loop: decide, step by step, whether to reuse, wait, execute or skip.

For each step whose upstream steps are done, in dependency order:

1. compute its cache key (inputs are known by content by now);
2. a usable cache entry → record it CACHED with the entry's outputs (no work);
3. otherwise take the lease on the key: when another driver holds it (an identical run
   at the same time), wait, re-checking the cache, and reuse its outputs when they land
   (or take over if that driver dies);
4. record it RUNNING and hand it to the backend (Ray tasks in
   :mod:`raymlops.pipelines.executor`; threads here, for tests); independent steps run at
   once;
5. when it ends, publish its outputs (:mod:`raymlops.pipelines.run_state`) or record the
   failure and skip its descendants, saying which ancestor failed and why.

The loop itself imports no Ray: :class:`LocalBackend` runs steps in threads.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import datetime as dt
import os
import secrets
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from raymlops.metadata import MetadataAPI
from raymlops.pipelines.cache import lookup, uri_path
from raymlops.pipelines.cache_key import CodeFingerprint, UncacheableError, package_versions, project_root, step_key
from raymlops.pipelines.dag import Pipeline
from raymlops.pipelines.hashing import StatCache
from raymlops.pipelines.leases import Holder, Leases
from raymlops.pipelines.run_state import PipelineRoot, RunState, sweep
from raymlops.pipelines.step import ArtifactRef, Step
from raymlops.pipelines.task import StepCall, execute

__all__ = ["Backend", "LocalBackend", "RunResult", "StepReport", "drive", "new_run_id"]

STATUSES = ("executed", "cached", "failed", "skipped")


class Backend(Protocol):
    """Where steps run. ``wait`` returns ``(handle, outcome, error)`` for finished steps."""

    def submit(self, call: StepCall) -> Any: ...

    def wait(self, handles: list[Any], timeout: float) -> list[tuple[Any, dict[str, Any] | None, BaseException | None]]: ...


class LocalBackend:
    """Steps in a thread pool of this process (tests, and machines without Ray)."""

    def __init__(self, workers: int = 4):
        self.pool = cf.ThreadPoolExecutor(max_workers=workers)

    def submit(self, call: StepCall) -> cf.Future:
        return self.pool.submit(execute, call)

    def wait(self, handles: list[cf.Future], timeout: float):
        done, _ = cf.wait(handles, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return [(f, f.result() if f.exception() is None else None, f.exception()) for f in done]


@dataclasses.dataclass
class StepReport:
    name: str
    status: str
    execution_id: int | None = None
    seconds: float = 0.0
    cache_key: str | None = None
    outputs: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    reason: str = ""
    error: str | None = None
    result: Any = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class RunResult:
    """A finished run: the ``pipeline run --json`` document."""

    run: str
    pipeline: str
    state: str
    cause: dict[str, Any]
    steps: list[StepReport]
    seconds: float = 0.0

    def step(self, name: str) -> StepReport:
        return next(s for s in self.steps if s.name == name)

    def counts(self) -> dict[str, int]:
        return {k: sum(s.status == k for s in self.steps) for k in STATUSES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run, "pipeline": self.pipeline, "state": self.state, "cause": self.cause,
            "seconds": round(self.seconds, 3), "steps": [s.to_dict() for s in self.steps],
        }  # fmt: skip


def new_run_id(pipeline: str) -> str:
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in pipeline)[:40]
    return f"{safe}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def default_roots(pipeline: Pipeline) -> list[str]:
    """The project folder of every step's defining file (raymlops itself is always walked)."""
    roots = []
    for s in pipeline.steps.values():
        f = getattr(getattr(s.fn, "__code__", None), "co_filename", None)
        if f and os.path.isfile(f):
            r = project_root(f)
            if r not in roots:
                roots.append(r)
    return roots


@dataclasses.dataclass
class _Running:
    step: Step
    execution: Any
    stage: str
    key: str | None
    cacheable: bool
    reason: str
    started: float
    files: dict[str, list[tuple[str, str]]]


def drive(
    pipeline: Pipeline,
    params: Mapping[str, Any] | None = None,
    *,
    store: MetadataAPI,
    home: str,
    backend: Backend,
    settings: dict[str, Any] | None = None,
    run_id: str | None = None,
    resume: str | None = None,
    use_cache: bool = True,
    cause: Mapping[str, Any] | None = None,
    roots: Sequence[str] | None = None,
    clock: Callable[[], float] = time.time,
    poll_s: float = 0.05,
    lease_ttl_s: float = 30.0,
    strict_params: bool = True,
    say: Callable[[str], None] | None = None,
) -> RunResult:
    """Run ``pipeline`` with ``params``; see the module docstring.

    Args:
        store: a direct metadata store (not the remote proxy: leases need its database).
        home: the raymlops home (outputs under ``home/pipelines``).
        backend: where steps run.
        run_id: the new run's id (default: pipeline name + time).
        resume: the id of an unfinished run to continue.
        use_cache: False executes every step (results are still recorded as entries).
        cause: why the run happens (recorded; a trigger passes its alert ids).
        roots: project folders whose code is hashed (default: each step's project).
        clock: the time cache expiry is judged by.
        say: progress lines for people.

    Raises:
        StepDefinitionError: missing or unknown parameters (before anything is recorded).
    """
    t0 = time.time()
    node_params = pipeline.resolve_params(params, strict=strict_params)
    root = PipelineRoot(os.path.join(home, "pipelines"))
    hasher = StatCache.for_home(home)
    leases = Leases(store)  # type: ignore[arg-type]
    sweep(store, root, leases)
    rid = resume or run_id or new_run_id(pipeline.name)
    state = RunState(store, root, hasher, pipeline=pipeline.name, run_id=rid, params=params or {}, cause=cause)
    state.begin(leases, resume=bool(resume))
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(lease_ttl_s / 3):
            try:
                leases.renew(rid, ttl_s=lease_ttl_s)
            except Exception:  # noqa: BLE001 - a missed beat is retried; expiry is far
                pass

    threading.Thread(target=heartbeat, daemon=True, name=f"lease-{rid}").start()
    fp = CodeFingerprint(roots if roots is not None else default_roots(pipeline))
    say = say or (lambda _m: None)
    status: dict[str, str] = {n: "pending" for n in pipeline.order}
    reports: dict[str, StepReport] = {}
    outs: dict[str, ArtifactRef] = {}
    running: dict[Any, _Running] = {}
    waiting: dict[str, tuple[str, dict[str, Any]]] = {}
    last_wait_check = 0.0

    def refs_of(s: Step) -> dict[str, Any]:
        refs: dict[str, Any] = {}
        for param in s.spec.inputs:
            names = s.input_names(param)
            refs[param] = outs[names] if isinstance(names, str) else [outs[n] for n in names]
        return refs

    def finish_outputs(s: Step, arts: Mapping[str, Any]) -> list[dict[str, Any]]:
        rows = []
        for local, art in arts.items():
            name = s.output_name(local)
            outs[name] = ArtifactRef(name=name, path=uri_path(art.uri), sha256=art.sha256, artifact_id=art.id, type=art.type)
            rows.append({"name": name, "artifact_id": art.id, "uri": art.uri, "sha256": art.sha256})
        return rows

    def skip_descendants(n: str, why: str) -> None:
        for d in pipeline.order:
            if d in pipeline.descendants(n) and status[d] in ("pending", "waiting"):
                status[d] = "skipped"
                waiting.pop(d, None)
                ex = state.record_skipped(pipeline.steps[d], node_params[d], why)
                reports[d] = StepReport(name=d, status="skipped", execution_id=ex.id, reason=why)
                say(f"  {d}: skipped ({why})")

    def fail(n: str, execution: Any, error: str, seconds: float, key: str | None) -> None:
        if execution is not None:
            state.record_failed(execution, error, seconds)
        status[n] = "failed"
        reports[n] = StepReport(name=n, status="failed", execution_id=getattr(execution, "id", None), seconds=seconds, cache_key=key, error=error)
        say(f"  {n}: FAILED: {error.splitlines()[0] if error else ''}")
        skip_descendants(n, f"upstream step {n!r} failed: {(error.splitlines() or [''])[0][:300]}")

    def try_cache(n: str, key: str, inputs: dict[str, Any]) -> bool:
        s = pipeline.steps[n]
        hit = lookup(store, key, outputs=s.spec.outputs, ttl=s.spec.cache_ttl, hasher=hasher, now=clock())
        if not hit.hit:
            inputs["_miss"] = hit.reason
            return False
        ex = state.record_cached(s, key, node_params[n], inputs["_arts"], hit.execution, hit.outputs)
        status[n] = "cached"
        reports[n] = StepReport(
            name=n, status="cached", execution_id=ex.id, cache_key=key, outputs=finish_outputs(s, hit.outputs),
            reason=hit.reason, result=hit.execution.properties.get("result"),
        )  # fmt: skip
        say(f"  {n}: cached ({hit.reason})")
        return True

    def launch(n: str, key: str | None, ctx: dict[str, Any]) -> None:
        s = pipeline.steps[n]
        ex = state.record_running(s, key, node_params[n], ctx["_arts"])
        stage = state.stage_dir(s)
        call = StepCall(
            step=s, run_id=rid, params={k: v for k, v in node_params[n].items()}, stage_dir=stage, inputs=ctx["_refs"],
            env=ctx["_env"], packages=ctx["_pkgs"], settings=settings,
        )  # fmt: skip
        try:
            handle = backend.submit(call)
        except Exception as exc:  # noqa: BLE001 - e.g. the function cannot be pickled
            fail(n, ex, f"{type(exc).__name__}: {exc}", 0.0, key)
            return
        status[n] = "running"
        running[handle] = _Running(s, ex, stage, key, ctx["_cacheable"], ctx.get("_miss", ""), time.time(), ctx["_files"])
        say(f"  {n}: running" + (f" ({ctx['_miss']})" if ctx.get("_miss") else ""))

    def start(n: str) -> None:
        s = pipeline.steps[n]
        refs = refs_of(s)
        files: dict[str, list[tuple[str, str]]] = {}
        try:
            for p in s.spec.files:
                value = node_params[n].get(p)
                paths = [value] if isinstance(value, (str, os.PathLike)) else list(value or [])
                files[p] = [(os.fspath(x), hasher.hash_path(os.fspath(x))) for x in paths]
        except FileNotFoundError as exc:
            fail(n, None, f"file {exc} given to step {n!r} does not exist", 0.0, None)
            return
        if resume:
            prior = state.prior(s)
            if prior is not None:
                ex, arts = prior
                status[n] = "executed"
                reports[n] = StepReport(
                    name=n, status="executed", execution_id=ex.id, cache_key=ex.properties.get("cache_key") or None,
                    outputs=finish_outputs(s, arts), reason=f"finished before the resume (execution {ex.id})",
                    seconds=float(ex.properties.get("seconds") or 0.0), result=ex.properties.get("result"),
                )  # fmt: skip
                say(f"  {n}: done before the resume")
                return
        env = {k: os.environ.get(k) for k in s.spec.env}
        pkgs = package_versions(s.spec.packages)
        key, why = None, ""
        if not s.spec.deterministic:
            why = "not cached: the step is declared non-deterministic"
        else:
            try:
                key = step_key(
                    s.fn, params=node_params[n],
                    inputs={**{p: (r.sha256 if isinstance(r, ArtifactRef) else [x.sha256 for x in r]) for p, r in refs.items()},
                            **{p: [sha for _, sha in v] for p, v in files.items()}},
                    env=env, packages=pkgs, outputs=s.spec.outputs, fingerprint=fp,
                )  # fmt: skip
            except UncacheableError as exc:
                why = f"not cached: {exc.message}"
        arts = state.step_inputs(refs, files, root_step=not pipeline.parents(n))
        ctx = {"_arts": arts, "_refs": refs, "_files": files, "_env": env, "_pkgs": pkgs, "_cacheable": key is not None, "_miss": why}
        if key is not None and use_cache and try_cache(n, key, ctx):
            return
        if not use_cache and key is not None:
            ctx["_miss"] = "--no-cache"
        if key is not None and not leases.acquire(f"step:{key}", Holder.current(f"{rid}/{n}"), ttl_s=lease_ttl_s):
            status[n] = "waiting"
            waiting[n] = (key, ctx)
            say(f"  {n}: waiting for an identical step another run is executing")
            return
        launch(n, key, ctx)

    def done(handle: Any, outcome: dict[str, Any] | None, error: BaseException | None) -> None:
        r = running.pop(handle)
        n = r.step.name
        secs = time.time() - r.started
        if error is not None:
            cause_ = getattr(error, "cause", None) or error
            text = f"{type(cause_).__name__}: {cause_}"
            tb = "".join(traceback.format_exception(cause_))[-4000:] if isinstance(cause_, BaseException) else ""
            fail(n, r.execution, text + ("\n" + tb if tb else ""), secs, r.key)
        else:
            assert outcome is not None
            cacheable, reason = r.cacheable, r.reason
            if cacheable and outcome.get("package_mismatch"):
                cacheable, reason = False, "not cached: package versions differ between driver and worker: " + "; ".join(outcome["package_mismatch"])
            for p, entries in r.files.items():
                for path, sha in entries:
                    try:
                        changed = hasher.hash_path(path) != sha
                    except OSError:
                        changed = True
                    if changed and cacheable:
                        cacheable, reason = False, f"not cached: {path} changed while the step read it"
            try:
                arts = state.publish(r.step, r.execution, r.stage, outcome, key=r.key, cacheable=cacheable, reason=reason)
            except Exception as exc:  # noqa: BLE001 - a publish failure fails the step, not the driver
                fail(n, r.execution, f"publishing outputs failed: {type(exc).__name__}: {exc}", secs, r.key)
                arts = None
            if arts is not None:
                status[n] = "executed"
                reports[n] = StepReport(
                    name=n, status="executed", execution_id=r.execution.id, seconds=float(outcome.get("seconds") or secs),
                    cache_key=r.key, outputs=finish_outputs(r.step, arts), reason=reason, result=outcome.get("result"),
                )  # fmt: skip
                say(f"  {n}: executed in {secs:.1f} s")
        if r.key is not None:
            leases.release(f"step:{r.key}", Holder.current(f"{rid}/{n}"))

    try:
        while True:
            for n in pipeline.order:
                if status[n] == "pending" and all(status[p] in ("executed", "cached") for p in pipeline.parents(n)):
                    start(n)
            if waiting and time.time() - last_wait_check > max(poll_s, 0.2):
                last_wait_check = time.time()
                for n, (key, ctx) in list(waiting.items()):
                    if use_cache and try_cache(n, key, ctx):
                        waiting.pop(n)
                    elif leases.acquire(f"step:{key}", Holder.current(f"{rid}/{n}"), ttl_s=lease_ttl_s):
                        waiting.pop(n)
                        if not (use_cache and try_cache(n, key, ctx)):
                            launch(n, key, ctx)
                        else:
                            leases.release(f"step:{key}", Holder.current(f"{rid}/{n}"))
            if running:
                for handle, outcome, error in backend.wait(list(running), timeout=poll_s):
                    done(handle, outcome, error)
            elif waiting:
                time.sleep(poll_s)
            elif not any(status[n] == "pending" and all(status[p] in ("executed", "cached") for p in pipeline.parents(n)) for n in pipeline.order):
                break
    except BaseException as exc:
        stop.set()
        try:
            state.finish("FAILED", [{"name": "(driver)", "status": "failed", "error": f"{type(exc).__name__}: {exc}"}], leases)
        except Exception:  # noqa: BLE001 - the original error matters more
            pass
        raise
    stop.set()
    steps = [reports[n] for n in pipeline.order if n in reports]
    final = "FAILED" if any(s.status == "failed" for s in steps) else "COMPLETE"
    state.finish(final, [s.to_dict() for s in steps], leases)
    return RunResult(run=rid, pipeline=pipeline.name, state=final, cause=state.cause, steps=steps, seconds=time.time() - t0)
