"""The trigger actor: a named, detached Ray actor that starts pipeline runs when triggers fire.

A thin shell (:class:`~raymlops.core.service.ClockedService`) around the pure
:mod:`raymlops.pipelines.triggers`. Every tick it looks at the world (the clock, watched
folders, new ``DriftAlert`` executions in the metadata store) and starts the runs that
are due, each in a thread of its own as the driver of a normal run (its steps are Ray
tasks), with the cause recorded. It runs on the head node, where the default SQLite
store can be opened directly (the driver's leases need the database). Triggers, their
state and the runs in flight are checkpointed to ``$RAYMLOPS_HOME/pipelines/triggers.json``;
a restarted actor (Ray restarts it) resumes the runs its predecessor left unfinished.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import Any

from raymlops.core.config import Settings
from raymlops.core.errors import NotFoundError
from raymlops.core.runtime import detached_actor, service_name
from raymlops.core.service import ClockedService
from raymlops.metadata import MetadataStore
from raymlops.pipelines.executor import run_pipeline
from raymlops.pipelines.scheduler import new_run_id
from raymlops.pipelines.triggers import TriggerSpec, TriggerState, due, list_files, observe_alerts, observe_files, observe_schedule

__all__ = ["TriggerService", "get_trigger_actor", "trigger_actor_name"]

log = logging.getLogger("raymlops")
HISTORY = 50


def trigger_actor_name(settings: Settings) -> str:
    return service_name(settings, "triggers")


class TriggerService(ClockedService):
    """The actor's implementation (wrapped with ``ray.remote`` by :func:`get_trigger_actor`)."""

    def __init__(self, settings: dict[str, Any], tick_s: float = 1.0):
        self.settings = Settings(**settings)
        super().__init__(name="trigger actor", checkpoint_path=str(self.settings.home / "pipelines" / "triggers.json"), tick_s=tick_s)
        self.store = MetadataStore(self.settings.metadata_uri)
        self.specs: dict[str, TriggerSpec] = {}
        self.states: dict[str, TriggerState] = {}
        self.running: dict[str, dict[str, Any]] = {}  # run id -> {trigger, cause, started}
        self.history: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        saved = self.restore() or {}
        for d in saved.get("triggers", []):
            spec = TriggerSpec(**d["spec"])
            self.specs[spec.id] = spec
            self.states[spec.id] = TriggerState(**d["state"])
        self.history = list(saved.get("history", []))
        for run_id, info in (saved.get("running") or {}).items():  # runs the previous actor left unfinished
            if info.get("trigger") in self.specs:
                self._start(self.specs[info["trigger"]], info["cause"], run_id=run_id, resume=True)

    # ------------------------------------------------------------------ state
    def _save(self) -> None:
        with self._lock:
            data = {
                "triggers": [{"spec": self.specs[i].model_dump(), "state": self.states[i].model_dump()} for i in self.specs],
                "running": {k: {kk: vv for kk, vv in v.items() if kk != "thread"} for k, v in self.running.items()},
                "history": self.history[-HISTORY:],
            }
        self.save_checkpoint(data, allow_nan=False)

    def _alerts(self, model: str) -> list[dict[str, Any]]:
        ctx = self.store.get_context("Monitoring", model)
        if ctx is None:
            return []
        return [
            {"id": e.id, "subject": e.properties.get("subject"), "state": e.properties.get("state"), "version": e.properties.get("version")}
            for e in self.store.get_executions(type="DriftAlert", context_id=ctx.id)
        ]

    def _observe(self, spec: TriggerSpec, st: TriggerState, now: float) -> None:
        if spec.kind in ("every", "cron"):
            observe_schedule(spec, st, now)
        elif spec.kind == "new_data":
            observe_files(spec, st, list_files(spec.path or ""), now)
        else:
            observe_alerts(spec, st, self._alerts(spec.model or ""), now)

    # ------------------------------------------------------------------ runs
    def _start(self, spec: TriggerSpec, cause: dict[str, Any], *, run_id: str | None = None, resume: bool = False) -> str:
        rid = run_id or new_run_id(spec.pipeline if ".py" not in spec.pipeline else "pipeline")
        info = {"trigger": spec.id, "cause": cause, "started": time.time(), "run": rid}
        with self._lock:
            self.running[rid] = info

        def work() -> None:
            entry = {"run": rid, "trigger": spec.id, "cause": cause, "started": info["started"]}
            try:
                res = run_pipeline(spec.pipeline, spec.params, settings=self.settings, store=self.store, run_id=None if resume else rid, resume=rid if resume else None, cause=cause)
                entry.update(state=res.state, steps={s.name: s.status for s in res.steps})
            except Exception as exc:  # noqa: BLE001 - a failed run is recorded, the actor goes on
                log.exception("trigger %s: run %s failed to start", spec.id, rid)
                entry.update(state="ERROR", error=f"{type(exc).__name__}: {exc}")
            entry["finished"] = time.time()
            with self._lock:
                self.running.pop(rid, None)
                self.history.append(entry)
            self._save()

        threading.Thread(target=work, daemon=True, name=f"run-{rid}").start()
        return rid

    async def on_tick(self) -> None:
        now = time.time()
        changed = False
        for tid, spec in list(self.specs.items()):
            st = self.states[tid]
            before = st.model_dump()
            try:
                self._observe(spec, st, now)
            except Exception:  # noqa: BLE001 - one broken trigger must not stop the others
                log.exception("trigger %s: observing failed", tid)
                continue
            busy = sum(1 for r in self.running.values() if r["trigger"] == tid)
            cause = due(spec, st, now=now, running=busy)
            if cause is not None:
                self._start(spec, cause)
            changed |= cause is not None or st.model_dump() != before
        if changed:
            self._save()

    # ------------------------------------------------------------------ API
    async def ping(self) -> str:
        self.ensure_clock()
        return "ok"

    async def add(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Add (or replace, by id) a trigger; its baseline (files, alerts, next time) is taken now."""
        self.ensure_clock()
        s = TriggerSpec(**{"id": spec.get("id") or f"t-{secrets.token_hex(3)}", **{k: v for k, v in spec.items() if k != "id"}})
        st = TriggerState()
        self._observe(s, st, time.time())
        self.specs[s.id], self.states[s.id] = s, st
        self._save()
        return self._row(s.id)

    async def remove(self, trigger_id: str) -> dict[str, Any]:
        self.ensure_clock()
        if trigger_id not in self.specs:
            raise NotFoundError(what="trigger", name=trigger_id, hint="list triggers with `raymlops pipeline trigger list`")
        row = self._row(trigger_id)
        del self.specs[trigger_id], self.states[trigger_id]
        self._save()
        return row

    def _row(self, tid: str) -> dict[str, Any]:
        spec, st = self.specs[tid], self.states[tid]
        last = next((h for h in reversed(self.history) if h["trigger"] == tid), None)
        return {
            **spec.model_dump(), "fired": st.fired, "coalesced": st.coalesced, "pending": len(st.pending), "last_fired": st.last_fired,
            "next_due": st.next_due, "running": [r for r, v in self.running.items() if v["trigger"] == tid], "last_run": last,
        }  # fmt: skip

    async def list(self) -> list[dict[str, Any]]:
        self.ensure_clock()
        return [self._row(t) for t in sorted(self.specs)]

    async def get(self, trigger_id: str) -> dict[str, Any]:
        self.ensure_clock()
        if trigger_id not in self.specs:
            raise NotFoundError(what="trigger", name=trigger_id, hint="list triggers with `raymlops pipeline trigger list`")
        return self._row(trigger_id)

    async def runs(self) -> dict[str, Any]:
        self.ensure_clock()
        return {"running": {k: {kk: vv for kk, vv in v.items()} for k, v in self.running.items()}, "history": self.history[-HISTORY:]}

    async def tick(self) -> None:
        """Look now (tests, drills)."""
        self.ensure_clock()
        await self.on_tick()


def get_trigger_actor(settings: Settings, *, create: bool = True, tick_s: float = 1.0):
    """The trigger actor of ``settings`` (created, detached, on the head node, if missing and ``create``)."""
    return detached_actor(
        TriggerService, trigger_actor_name(settings), settings.model_dump(mode="json"), tick_s,
        create=create, resources={"node:__internal_head__": 0.001},
    )  # fmt: skip
