"""A pipeline run's record: its steps' executions, publishing outputs, resuming, cleaning up.

Every step is a ``PipelineStep`` execution (RUNNING → COMPLETE | CACHED | FAILED; a
step skipped because an ancestor failed is CANCELED with the reason) in the run's
``PipelineRun`` context, next to one ``PipelineRun`` execution for the run itself.

**Publishing is atomic.** A step writes into ``tmp/RUN/STEP-ID/`` (nobody reads
there); the driver then renames each output folder to
``objects/SHA[:2]/SHA`` (its content address; a rename on one filesystem is atomic, and
identical content already there is simply reused) and records the execution COMPLETE
with its output artifacts and its cache entry in *one* metadata transaction. A driver
killed at any point leaves either no record of the outputs, or all of it:

* killed while the step runs: a staging folder and a RUNNING execution;
* killed between rename and transaction: an object no artifact points at;
* killed after the transaction: a finished step.

:func:`sweep`, run at the start of every run, finds runs whose driver is gone (its
lease is dead), marks them FAILED and their RUNNING steps CANCELED, deletes their
staging folders and the objects no artifact points at. The next run then executes only
what is unfinished: finished deterministic steps are cache hits, and ``resume=RUN``
continues the same run, reusing its finished steps even when they are not cacheable.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
import uuid
from collections.abc import Mapping
from typing import Any

from raymlops.core.errors import ConflictError, NotFoundError
from raymlops.metadata import Artifact, Context, Execution, MetadataAPI
from raymlops.pipelines.cache import STEP_EXECUTION, cache_context, verify_outputs
from raymlops.pipelines.hashing import StatCache
from raymlops.pipelines.leases import Holder, Leases
from raymlops.pipelines.step import Step

__all__ = ["RUN_CONTEXT", "RUN_EXECUTION", "PipelineRoot", "RunState", "sweep", "run_lease"]

RUN_CONTEXT = "PipelineRun"
RUN_EXECUTION = "PipelineRun"


def run_lease(run_id: str) -> str:
    return f"run:{run_id}"


class PipelineRoot:
    """Where pipeline outputs live: ``objects/`` (published, by content) and ``tmp/`` (staging)."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        self.objects = os.path.join(self.path, "objects")
        self.tmp = os.path.join(self.path, "tmp")

    def object_path(self, sha: str) -> str:
        return os.path.join(self.objects, sha[:2], sha)


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def _read_only(path: str) -> None:
    for d, _, files in os.walk(path):
        for f in files:
            os.chmod(os.path.join(d, f), 0o444)


def _rmtree(path: str) -> None:
    def writable(func, p, _exc):
        os.chmod(os.path.dirname(p), 0o755)
        os.chmod(p, stat.S_IWRITE | stat.S_IREAD)
        func(p)

    shutil.rmtree(path, onerror=writable)


class RunState:
    """The records of one run (see the module docstring).

    Args:
        store: the metadata store (a direct connection: the driver runs on a node that has it).
        root: the pipeline root.
        hasher: the stat cache.
        pipeline: the pipeline's name.
        run_id: the run's id (its context name).
        params: the run parameters.
        cause: why it runs (a trigger's cause, or ``{"kind": "manual"}``).
    """

    def __init__(
        self, store: MetadataAPI, root: PipelineRoot, hasher: StatCache, *, pipeline: str, run_id: str,
        params: Mapping[str, Any], cause: Mapping[str, Any] | None = None,
    ):  # fmt: skip
        self.store = store
        self.root = root
        self.hasher = hasher
        self.pipeline = pipeline
        self.run_id = run_id
        self.params = _plain(params)
        self.cause = _plain(cause or {"kind": "manual"})
        self.context = Context(type=RUN_CONTEXT, name=run_id, properties={"pipeline": pipeline})
        self.execution: Execution | None = None
        self.cause_artifact: Artifact | None = None
        self.holder = Holder.current(run_id)

    # ------------------------------------------------------------------ the run
    def begin(self, leases: Leases, *, resume: bool = False) -> None:
        """Record the run RUNNING (or take over ``run_id`` to resume it) and take its lease."""
        existing = self.find(self.store, self.run_id)
        if resume:
            if existing is None:
                raise NotFoundError(what="pipeline run", name=self.run_id, hint="list runs with `raymlops pipeline list`")
            if leases.is_live(run_lease(self.run_id)):
                raise ConflictError(f"run {self.run_id} is still running (its driver holds the lease); wait for it or stop it first")
            self.execution = existing
            self.cause = existing.properties.get("cause") or self.cause
            self.params = existing.properties.get("params") or self.params
            existing.state, existing.error = "RUNNING", None
            existing.properties["resumed"] = int(existing.properties.get("resumed") or 0) + 1
        elif existing is not None:
            raise ConflictError(f"run {self.run_id} exists already; resume it with resume={self.run_id!r} (CLI: --resume)")
        if not leases.acquire(run_lease(self.run_id), self.holder):
            raise ConflictError(f"run {self.run_id} is being run by another driver")
        if self.execution is None:
            self.execution = Execution(
                type=RUN_EXECUTION,
                name=f"{self.pipeline} {self.run_id}",
                state="RUNNING",
                properties={
                    "pipeline": self.pipeline, "run": self.run_id, "params": self.params, "cause": self.cause,
                    "driver": f"{self.holder.host}:{self.holder.pid}", "started": time.time(),
                },
            )  # fmt: skip
        inputs = {}
        alerts = [int(a) for a in self.cause.get("alerts") or []]
        if alerts and not resume:
            self.cause_artifact = self._cause_artifact(alerts)
            inputs["cause"] = self.cause_artifact
        elif resume:
            self.cause_artifact = self._existing_cause()
        self.store.put_execution(self.execution, inputs=inputs, contexts=[self.context])

    def _cause_artifact(self, alert_ids: list[int]) -> Artifact:
        """The cause as an artifact the alerts output: lineage runs alert → cause → steps → model."""
        art = Artifact(
            type="TriggerCause",
            uri=f"raymlops://pipelines/{self.run_id}/cause",
            name=f"{self.cause.get('kind', 'trigger')} → {self.pipeline}",
            properties={"cause": self.cause, "run": self.run_id},
        )
        for aid in alert_ids:
            try:
                alert = self.store.get_execution(aid)
            except NotFoundError:
                continue
            self.store.put_execution(alert, outputs={"cause": art})  # after the first, one more event to the same artifact
        if art.id is None:
            self.store.put_artifact(art, contexts=[self.context])
        return art

    def _existing_cause(self) -> Artifact | None:
        found = self.store.get_artifacts(type="TriggerCause", uri=f"raymlops://pipelines/{self.run_id}/cause")
        return found[0] if found else None

    def finish(self, state: str, steps: list[dict[str, Any]], leases: Leases) -> None:
        assert self.execution is not None
        self.execution.state = state
        failed = [s for s in steps if s["status"] == "failed"]
        self.execution.error = f"step {failed[0]['name']!r} failed: {failed[0].get('error')}" if failed else None
        self.execution.properties["finished"] = time.time()
        self.execution.properties["summary"] = {s["name"]: s["status"] for s in steps}
        self.store.put_execution(self.execution)
        leases.drop_run(self.run_id)
        shutil.rmtree(os.path.join(self.root.tmp, self.run_id), ignore_errors=True)

    @staticmethod
    def find(store: MetadataAPI, run_id: str) -> Execution | None:
        ctx = store.get_context(RUN_CONTEXT, run_id)
        if ctx is None:
            return None
        runs = [e for e in store.get_executions(type=RUN_EXECUTION, context_id=ctx.id)]
        return runs[-1] if runs else None

    # ------------------------------------------------------------------ steps
    def _props(self, step: Step, key: str | None, status: str, params: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline, "run": self.run_id, "step": step.name, "cache_key": key or "",
            "deterministic": step.spec.deterministic, "status": status, "params": _plain(params), **extra,
        }  # fmt: skip

    def step_inputs(self, refs: Mapping[str, Any], files: Mapping[str, list[tuple[str, str]]], *, root_step: bool) -> dict[str, Artifact]:
        """Input artifacts by role: upstream artifacts (by id), files (found or new), the cause."""
        out: dict[str, Artifact] = {}
        ids = {}
        for param, ref in refs.items():
            for i, r in enumerate(ref if isinstance(ref, list) else [ref]):
                ids[f"{param}[{i}]" if isinstance(ref, list) else param] = r.artifact_id
        arts = {a.id: a for a in self.store.get_artifacts(ids=[i for i in ids.values() if i is not None])}
        for role, aid in ids.items():
            if aid in arts:
                out[role] = arts[aid]
        for param, entries in files.items():
            for i, (path, sha) in enumerate(entries):
                uri = f"file://{os.path.abspath(path)}"
                same = self.store.get_artifacts(uri=uri, sha256=sha, type="File")
                art = same[-1] if same else Artifact(type="File", uri=uri, sha256=sha, name=os.path.basename(path))
                out[f"{param}[{i}]" if len(entries) > 1 else param] = art
        if root_step and self.cause_artifact is not None:
            out["cause"] = self.cause_artifact
        return out

    def record_running(self, step: Step, key: str | None, params: Mapping[str, Any], inputs: Mapping[str, Artifact]) -> Execution:
        ex = Execution(type=STEP_EXECUTION, name=step.name, state="RUNNING", properties=self._props(step, key, "running", params))
        return self.store.put_execution(ex, inputs=dict(inputs), contexts=[self.context])

    def stage_dir(self, step: Step) -> str:
        safe = step.name.replace("/", "_")
        return os.path.join(self.root.tmp, self.run_id, f"{safe}-{uuid.uuid4().hex[:8]}")

    def publish(
        self, step: Step, execution: Execution, stage_dir: str, outcome: Mapping[str, Any], *, key: str | None, cacheable: bool,
        reason: str = "",
    ) -> dict[str, Artifact]:  # fmt: skip
        """Move the staged outputs to their content addresses, then record them in one transaction."""
        placed = self._move_outputs(stage_dir, outcome)
        return self._record_complete(step, execution, placed, outcome, key=key, cacheable=cacheable, reason=reason)

    def _move_outputs(self, stage_dir: str, outcome: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
        placed = {}
        for local, info in outcome["outputs"].items():
            src, sha = os.path.join(stage_dir, local), info["sha256"]
            dest = self.root.object_path(sha)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            intact = False
            if os.path.isdir(dest):
                try:
                    intact = self.hasher.hash_path(dest) == sha
                except OSError:
                    intact = False
                if not intact:  # a damaged copy: replace it
                    _rmtree(dest)
            if intact:
                _rmtree(src)
            else:
                _read_only(src)
                os.rename(src, dest)
                for rel, fsha, _ in info["files"]:
                    self.hasher.remember(os.path.join(dest, rel), fsha)
            placed[local] = (dest, info)
        shutil.rmtree(stage_dir, ignore_errors=True)
        return placed

    def _record_complete(
        self, step: Step, execution: Execution, placed: Mapping[str, tuple[str, dict[str, Any]]], outcome: Mapping[str, Any],
        *, key: str | None, cacheable: bool, reason: str,
    ) -> dict[str, Artifact]:  # fmt: skip
        outputs: dict[str, Artifact] = {}
        for local, (dest, info) in placed.items():
            uri = f"file://{dest}"
            typ = step.spec.output_type(local)
            same = [a for a in self.store.get_artifacts(uri=uri, sha256=info["sha256"]) if a.type == typ and a.state == "LIVE"]
            outputs[local] = same[0] if same else Artifact(
                type=typ, uri=uri, sha256=info["sha256"], name=step.output_name(local),
                properties={"bytes": int(info["bytes"]), "files": len(info["files"]), "pipeline": self.pipeline},
            )  # fmt: skip
        execution.state = "COMPLETE"
        execution.properties.update(
            status="executed", seconds=float(outcome.get("seconds") or 0.0), worker=f"{outcome.get('host')}:{outcome.get('pid')}",
            cached_as=key if cacheable and key else "", reason=reason,
        )  # fmt: skip
        if outcome.get("result") is not None:
            execution.properties["result"] = outcome["result"]
        contexts = [cache_context(key)] if cacheable and key else []
        self.store.put_execution(execution, outputs=outputs, contexts=contexts)
        return outputs

    def record_cached(
        self, step: Step, key: str, params: Mapping[str, Any], inputs: Mapping[str, Artifact], source: Execution, outputs: Mapping[str, Artifact],
    ) -> Execution:  # fmt: skip
        props = self._props(step, key, "cached", params, cached_from=source.id, seconds=0.0)
        if source.properties.get("result") is not None:
            props["result"] = source.properties["result"]
        ex = Execution(type=STEP_EXECUTION, name=step.name, state="CACHED", properties=props)
        return self.store.put_execution(ex, inputs=dict(inputs), outputs=dict(outputs), contexts=[self.context])

    def record_failed(self, execution: Execution, error: str, seconds: float) -> None:
        execution.state = "FAILED"
        execution.error = error[:10_000]
        execution.properties.update(status="failed", seconds=float(seconds))
        self.store.put_execution(execution)

    def record_skipped(self, step: Step, params: Mapping[str, Any], reason: str) -> Execution:
        ex = Execution(type=STEP_EXECUTION, name=step.name, state="CANCELED", error=reason, properties=self._props(step, None, "skipped", params, reason=reason))
        return self.store.put_execution(ex, contexts=[self.context])

    def prior(self, step: Step) -> tuple[Execution, dict[str, Artifact]] | None:
        """For a resumed run: this step's finished execution in the run, if its outputs verify."""
        ctx = self.store.get_context(RUN_CONTEXT, self.run_id)
        if ctx is None:
            return None
        done = [
            e for e in self.store.get_executions(type=STEP_EXECUTION, context_id=ctx.id)
            if e.properties.get("step") == step.name and e.state in ("COMPLETE", "CACHED")
        ]  # fmt: skip
        for ex in sorted(done, key=lambda e: e.id or 0, reverse=True):
            found, _ = verify_outputs(self.store, ex.id, step.spec.outputs, self.hasher)
            if found or not step.spec.outputs:
                return ex, found
        return None


def sweep(store: MetadataAPI, root: PipelineRoot, leases: Leases, *, now: float | None = None) -> dict[str, int]:
    """Close runs whose driver is gone, delete their staging folders and unreferenced objects."""
    now = time.time() if now is None else now
    out = {"runs_closed": 0, "steps_canceled": 0, "staging_removed": 0, "objects_removed": 0}
    for ex in store.get_executions(type=RUN_EXECUTION, state="RUNNING"):
        run = str(ex.properties.get("run"))
        if leases.is_live(run_lease(run), now=now):
            continue
        ctx = store.get_context(RUN_CONTEXT, run)
        for s in store.get_executions(type=STEP_EXECUTION, context_id=ctx.id, state="RUNNING") if ctx else []:
            s.state, s.error = "CANCELED", f"the driver of run {run} stopped before this step finished"
            s.properties["status"] = "interrupted"
            store.put_execution(s)
            out["steps_canceled"] += 1
        ex.state, ex.error = "FAILED", f"driver lost: {ex.properties.get('driver')} stopped before the run finished; resume it with --resume {run}"
        store.put_execution(ex)
        leases.drop_run(run)
        out["runs_closed"] += 1
    if os.path.isdir(root.tmp):
        for name in os.listdir(root.tmp):
            if not leases.is_live(run_lease(name), now=now):
                shutil.rmtree(os.path.join(root.tmp, name), ignore_errors=True)
                out["staging_removed"] += 1
    live = leases.live("run:", now=now)
    oldest = min((r["acquired"] for r in live), default=float("inf"))
    if os.path.isdir(root.objects):
        for prefix in os.listdir(root.objects):
            pdir = os.path.join(root.objects, prefix)
            for sha in os.listdir(pdir):
                path = os.path.join(pdir, sha)
                if os.lstat(path).st_ctime >= oldest - 1.0:
                    continue  # a live run may be between its rename and its transaction
                if not store.get_artifacts(uri=f"file://{path}", limit=1):
                    _rmtree(path)
                    out["objects_removed"] += 1
    return out
