"""The rollout controller: a named, detached Ray actor around :class:`RolloutManager`.

It owns the routing tables (ingress replicas poll them, so a change reaches every replica
within a poll interval, without restarting them), ticks rollouts on a clock, deploys and
retires the model-server Serve applications to match the tables, records every decision
in the metadata store (a ``RolloutDecision`` execution with its numbers, its inputs the
model versions involved), and checkpoints its state under ``$RAYMLOPS_HOME/serving`` so a
restarted controller carries on where it stopped.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

from raymlops.core.config import Settings
from raymlops.core.runtime import NAMESPACE
from raymlops.serving.manager import Retirements, RolloutManager
from raymlops.serving.rollout import RolloutPlan

__all__ = ["RolloutController", "controller_name", "get_controller", "NAMESPACE"]



def controller_name(settings: Settings) -> str:
    from raymlops.core.runtime import service_name

    return service_name(settings, "rollouts")


class RolloutController:
    """The actor's implementation (wrapped with ``ray.remote`` by :func:`get_controller`).

    Args:
        settings: raymlops settings as a dict.
        gate_interval_s: how often gates are evaluated.
        tick_s: how often the clock ticks.
        retire_after_s: how long a version no table routes to keeps its model server
            (every ingress replica moves to the new table first; see :class:`Retirements`).
    """

    def __init__(self, settings: dict[str, Any], gate_interval_s: float = 5.0, tick_s: float = 0.5, retire_after_s: float = 3.0):
        self.settings = Settings(**settings)
        self.tick_s = tick_s
        self.retirements = Retirements(retire_after_s)
        self.path = os.path.join(str(self.settings.home), "serving", "controller.json")
        self.manager = RolloutManager(gate_interval_s=gate_interval_s)
        self.faults: dict[tuple[str, int], dict[str, float]] = {}
        self.monitoring: dict[str, dict[str, Any] | None] = {}
        self.placement: dict[tuple[str, int], dict[str, Any]] = {}
        self.replicas: dict[tuple[str, int], int] = {}
        if os.path.exists(self.path):
            try:
                with open(self.path) as f:
                    data = json.load(f)
                self.manager = RolloutManager.from_dict(data)
                dep = data.get("deployments") or {}
                self.monitoring = dict(dep.get("monitoring") or {})
                self.placement = {(m, int(v)): p for m, v, p in dep.get("placement") or ()}
                self.replicas = {(m, int(v)): int(n) for m, v, n in dep.get("replicas") or ()}
            except (OSError, ValueError, KeyError, TypeError):
                pass  # a damaged checkpoint: start empty rather than not at all
        self._deployed: set[tuple[str, int]] = set()
        self._loop: asyncio.Task | None = None
        self._lock: asyncio.Lock | None = None

    # ------------------------------------------------------------------ plumbing
    def _ensure_loop(self) -> None:
        if self._loop is None or self._loop.done():
            self._lock = self._lock or asyncio.Lock()
            self._loop = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                await self._tick()
            except Exception:  # noqa: BLE001 - the clock must keep ticking
                import logging

                logging.getLogger("raymlops").exception("rollout controller tick failed")

    async def _drift_flags(self) -> dict[str, bool | None]:
        """The monitor's drift flag for the new version of every rollout gating on drift."""
        from raymlops.monitoring.actor import get_monitor

        out: dict[str, bool | None] = {}
        for model, version in self.manager.drift_targets().items():
            try:
                out[model] = await get_monitor(self.settings, model, create=False).drift_flag.remote(version)
            except Exception:  # noqa: BLE001 - no monitor (yet): the gate reports insufficient data
                out[model] = None
        return out

    async def _tick(self) -> None:
        drift = await self._drift_flags() if self.manager.drift_targets() else None
        async with self._lock:  # type: ignore[union-attr]
            records = self.manager.tick(time.time(), drift=drift)
            for model, rec in records:
                await self._record(model, rec.to_dict())
            if records or self.retirements.pending:
                await self._reconcile()
            if records:
                self._checkpoint()

    def _checkpoint(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = f"{self.path}.tmp"
        data = self.manager.to_dict()
        data["deployments"] = {
            "monitoring": self.monitoring,
            "placement": [[m, v, p] for (m, v), p in self.placement.items()],
            "replicas": [[m, v, n] for (m, v), n in self.replicas.items()],
        }
        with open(tmp, "w") as f:
            json.dump(data, f, default=str)
        os.replace(tmp, self.path)

    async def _record(self, model: str, rec: dict[str, Any]) -> None:
        """A decision into the metadata store, with its numbers (not for repeated holds)."""
        if rec.get("action") == "hold":
            return
        st = self.manager.state(model)
        plan = st.rollout.plan if st.rollout is not None else None

        def write() -> None:
            from raymlops.metadata import Context, Execution, connect
            from raymlops.registry import ModelRegistry

            store = connect(self.settings)
            reg = ModelRegistry.connect(self.settings)
            inputs = {}
            if plan is not None:
                for role, v in (("from", plan.from_version), ("to", plan.to_version)):
                    try:
                        inputs[role] = store.get_artifact(reg.get(f"{model}@{v}")["artifact_id"])
                    except Exception:  # noqa: BLE001 - a decision is recorded even if a version vanished
                        pass
            store.put_execution(
                Execution(
                    type="RolloutDecision",
                    name=f"{model}: {rec.get('action')}",
                    state="COMPLETE",
                    properties={
                        "model": model,
                        "strategy": plan.strategy if plan else "",
                        "from_version": plan.from_version if plan else 0,
                        "to_version": plan.to_version if plan else 0,
                        "action": str(rec.get("action")),
                        "reason": str(rec.get("reason")),
                        "percent": float(rec.get("percent") or 0.0),
                        "numbers": rec.get("numbers") or {},
                    },
                ),
                inputs=list(inputs.values()),
                contexts=[Context(type="Rollout", name=f"{model}")],
            )

        await asyncio.to_thread(write)

    async def _reconcile(self, *, retire_at_once: bool = False) -> None:
        """Deploy model servers the tables need; retire those no table has needed for a while.

        Args:
            retire_at_once: delete unrouted servers now and wait until they are gone
                (``recreate``), not after the grace that lets every ingress replica move
                to the new table first.
        """
        from ray import serve

        from raymlops.serving.server import app_name

        want = self.manager.deployed()
        missing = sorted(want - self._deployed)
        if missing and not retire_at_once:
            await self._deploy(*missing)
        for model, version in sorted(self.retirements.due(self._deployed - want, now=time.time(), at_once=retire_at_once)):
            # recreate waits for the old servers to be gone before the new ones start; otherwise
            # waiting out the replicas' graceful shutdown would hold the lock (and every
            # rollout call) for seconds
            await asyncio.to_thread(serve.delete, app_name(model, version), _blocking=retire_at_once)
            self._deployed.discard((model, version))
        if missing and retire_at_once:
            await self._deploy(*missing)

    async def _deploy(self, *keys: tuple[str, int]) -> None:
        """Deploy model servers (one Serve app per version), all at once: Serve starts them in parallel."""
        from ray import serve

        from raymlops.serving.server import ModelServer, app_name

        targets = []
        for model, version in keys:
            app = ModelServer.options(
                name="model", num_replicas=self.replicas.get((model, version), 1), **self.placement.get((model, version), {})
            ).bind(model, version, self.settings.model_dump(), self.faults.get((model, version)), self.monitoring.get(model, {}))
            targets.append(serve.RunTarget(app, name=app_name(model, version), route_prefix=None))
        await asyncio.to_thread(serve.run_many, targets)
        self._deployed.update(keys)

    # ------------------------------------------------------------------ API
    async def ping(self) -> str:
        self._ensure_loop()
        return "ok"

    async def get_tables(self, revision: int) -> dict[str, Any] | None:
        """Every routing table, or None when nothing changed since ``revision``."""
        self._ensure_loop()
        return self.manager.tables_since(revision)

    async def serve_model(
        self,
        model: str,
        version: int,
        faults: dict[str, float] | None = None,
        replicas: int = 1,
        monitoring: dict[str, Any] | None | bool = None,
        max_replicas_per_node: int | None = None,
    ) -> dict[str, Any]:
        """Deploy ``model@version`` (if needed) and route all of ``model`` to it.

        Args:
            monitoring: drift-monitor settings of the model (``window_s``, ``flush_s``,
                ``preset``, ``min_rows``, ...); False turns monitoring off; None keeps the
                defaults.
            max_replicas_per_node: spread replicas over nodes (Serve's option).
        """
        spec = {"model": model, "version": version, "faults": faults, "replicas": replicas, "monitoring": monitoring}
        return (await self.serve_models([{**spec, "max_replicas_per_node": max_replicas_per_node}]))[0]

    async def serve_models(self, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """:meth:`serve_model` for several models at once; their servers start in parallel.

        Args:
            specs: one dict per model with ``model`` and ``version`` and, optionally,
                :meth:`serve_model`'s other arguments.
        """
        self._ensure_loop()
        async with self._lock:  # type: ignore[union-attr]
            keys = []
            for spec in specs:
                model, version = str(spec["model"]), int(spec["version"])
                keys.append((model, version))
                self.replicas[(model, version)] = int(spec.get("replicas") or 1)
                monitoring = spec.get("monitoring")
                if monitoring is not None:
                    self.monitoring[model] = None if monitoring is False else dict(monitoring)
                if spec.get("max_replicas_per_node"):
                    self.placement[(model, version)] = {"max_replicas_per_node": int(spec["max_replicas_per_node"])}
                if spec.get("faults"):
                    self.faults[(model, version)] = dict(spec["faults"])
            new = sorted(set(keys) - self._deployed)
            if new:  # up before any traffic is routed to them
                await self._deploy(*new)
            tables = [self.manager.serve(model, version) for model, version in keys]
            await self._reconcile()
            self._checkpoint()
        return [t.to_dict() for t in tables]

    async def start_rollout(
        self, plan: dict[str, Any], faults: dict[str, float] | None = None, replicas: int = 1
    ) -> dict[str, Any]:
        """Start a rollout; the new version is deployed (and healthy) before it gets traffic."""
        self._ensure_loop()
        p = RolloutPlan.from_dict(plan)
        async with self._lock:  # type: ignore[union-attr]
            self.manager.state(p.model)  # an unknown model is a 404 before anything is deployed
            self.replicas[(p.model, p.to_version)] = int(replicas)
            if faults:
                self.faults[(p.model, p.to_version)] = dict(faults)
            if p.strategy == "recreate":
                # recreate: the old version goes first, then the new one comes up (downtime)
                t0 = time.time()
                rec = self.manager.start(p, now=t0)
                await self._record(p.model, rec.to_dict())
                await self._reconcile(retire_at_once=True)
                self.manager.record_downtime(p.model, time.time() - t0)
            else:
                if (p.model, p.to_version) not in self._deployed:
                    await self._deploy((p.model, p.to_version))
                rec = self.manager.start(p, now=time.time())
                await self._record(p.model, rec.to_dict())
                ready = self.manager.mark_ready(p.model, now=time.time())
                if ready is not None and ready.action != "hold":
                    await self._record(p.model, ready.to_dict())
                await self._reconcile()
            self._checkpoint()
        return self.manager.status(p.model)

    async def promote(self, model: str, reason: str = "promoted by operator") -> dict[str, Any]:
        self._ensure_loop()
        async with self._lock:  # type: ignore[union-attr]
            rec = self.manager.promote(model, now=time.time(), reason=reason)
            await self._record(model, rec.to_dict())
            await self._reconcile()
            self._checkpoint()
        return self.manager.status(model)

    async def rollback(self, model: str, reason: str = "rolled back by operator") -> dict[str, Any]:
        self._ensure_loop()
        async with self._lock:  # type: ignore[union-attr]
            rec = self.manager.rollback(model, now=time.time(), reason=reason)
            await self._record(model, rec.to_dict())
            await self._reconcile()
            self._checkpoint()
        return self.manager.status(model)

    async def set_percent(self, model: str, percent: float) -> dict[str, Any]:
        self._ensure_loop()
        async with self._lock:  # type: ignore[union-attr]
            rec = self.manager.set_percent(model, percent, now=time.time())
            await self._record(model, rec.to_dict())
            self._checkpoint()
        return self.manager.status(model)

    async def status(self, model: str) -> dict[str, Any]:
        self._ensure_loop()
        return self.manager.status(model)

    async def models(self) -> list[str]:
        return sorted(self.manager.models)

    async def report(self, payload: dict[str, Any]) -> None:
        self._ensure_loop()
        self.manager.report(payload)

    async def feedback(self, model: str, request_id: str, labels: list[Any]) -> int:
        version, errors = self.manager.score_feedback(model, request_id, labels)
        if self.monitoring.get(model, {}) is not None:
            try:
                from raymlops.monitoring.actor import get_monitor

                get_monitor(self.settings, model, create=False).feedback.remote(version, errors)  # fire and forget
            except Exception:  # noqa: BLE001 - no monitor: feedback still scores the rollout
                pass
        return len(errors)


def get_controller(settings: Settings, *, create: bool = True, gate_interval_s: float = 5.0):
    """The controller actor of ``settings`` (created, detached, if missing and ``create``)."""
    from raymlops.core.runtime import detached_actor

    return detached_actor(
        RolloutController, controller_name(settings), settings.model_dump(), gate_interval_s, create=create, max_concurrency=64
    )
