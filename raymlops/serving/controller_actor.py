"""The rollout controller actor: a named, detached Ray actor around :class:`RolloutManager`.

It owns the routing tables (ingress replicas poll them, so a change reaches every replica
within a poll interval, without restarting them), ticks rollouts on a clock, deploys and
retires the model-server Serve applications to match the tables, records every decision
in the metadata store (:func:`~raymlops.serving.decisions.record_decision`), and
checkpoints its state under ``$RAYMLOPS_HOME/serving`` so a restarted controller carries
on where it stopped. The clock and the checkpoint are
:class:`~raymlops.core.service.ClockedService`'s; the decisions are the manager's, and
what depends on a rollout's strategy comes from the strategy object.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from types import ModuleType
from typing import Any

from raymlops.core.config import Settings
from raymlops.core.runtime import detached_actor, service_name
from raymlops.core.service import ClockedService
from raymlops.monitoring.actor import get_monitor
from raymlops.serving.decisions import record_decision
from raymlops.serving.manager import RolloutManager
from raymlops.serving.retirements import Retirements
from raymlops.serving.rollout import RolloutPlan

__all__ = ["RolloutController", "controller_name", "get_controller"]

log = logging.getLogger("raymlops")


def controller_name(settings: Settings) -> str:
    """The name of the controller actor of ``settings`` (one per metadata store and home)."""
    return service_name(settings, "rollouts")


def _servers() -> ModuleType:
    """The model-server deployment module, which starts and deletes servers through Ray Serve."""
    # the drivers that import this module to look the controller up (the CLI, the ingress) never need it
    from raymlops.serving import server_deployment  # heavy (Ray Serve, about 1 s): only the actor deploys

    return server_deployment


class RolloutController(ClockedService):
    """The actor's implementation (wrapped with ``ray.remote`` by :func:`get_controller`).

    Args:
        settings: raymlops settings as a dict.
        gate_interval_s: how often gates are evaluated.
        tick_s: how often the clock ticks.
        retire_after_s: how long a version no table routes to keeps its model server
            (every ingress replica moves to the new table first; see :class:`Retirements`).
    """

    def __init__(
        self, settings: dict[str, Any], gate_interval_s: float = 5.0, tick_s: float = 0.5, retire_after_s: float = 3.0
    ):
        self.settings = Settings(**settings)
        path = os.path.join(str(self.settings.home), "serving", "controller.json")
        super().__init__(name="rollout controller", checkpoint_path=path, tick_s=tick_s)
        self.retirements = Retirements(retire_after_s)
        self.manager = RolloutManager(gate_interval_s=gate_interval_s)
        self.faults: dict[tuple[str, int], dict[str, float]] = {}
        self.monitoring: dict[str, dict[str, Any] | None] = {}
        self.placement: dict[tuple[str, int], dict[str, Any]] = {}
        self.replicas: dict[tuple[str, int], int] = {}
        self._load(self.restore())
        self._deployed: set[tuple[str, int]] = set()
        self._lock: asyncio.Lock | None = None

    # ------------------------------------------------------------------ plumbing
    def _load(self, data: dict[str, Any] | None) -> None:
        """Carry on from a checkpoint; a damaged one starts empty rather than not at all."""
        if data is None:
            return
        try:
            self.manager = RolloutManager.from_dict(data)
            dep = data.get("deployments") or {}
            self.monitoring = dict(dep.get("monitoring") or {})
            self.placement = {(m, int(v)): p for m, v, p in dep.get("placement") or ()}
            self.replicas = {(m, int(v)): int(n) for m, v, n in dep.get("replicas") or ()}
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("rollout controller: checkpoint %s unusable (%s); starting empty", self.checkpoint_path, exc)

    def _begin(self) -> asyncio.Lock:
        """Start the clock (an actor has no event loop before its first async call); the lock of every change."""
        self.ensure_clock()
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _drift_flags(self) -> dict[str, bool | None]:
        """The monitor's drift flag for the new version of every rollout gating on drift."""
        out: dict[str, bool | None] = {}
        for model, version in self.manager.drift_targets().items():
            try:
                out[model] = await get_monitor(self.settings, model, create=False).drift_flag.remote(version)
            except Exception:  # noqa: BLE001 - no monitor (yet): the gate reports insufficient data
                out[model] = None
        return out

    async def on_tick(self) -> None:
        """Evaluate the gates of running rollouts, record and apply their decisions."""
        drift = await self._drift_flags() if self.manager.drift_targets() else None
        async with self._begin():
            records = self.manager.tick(time.time(), drift=drift)
            for model, rec in records:
                await self._record(model, rec.to_dict())
            if records or self.retirements.pending:
                await self._reconcile()
            if records:
                self._checkpoint()

    def _checkpoint(self) -> None:
        data = self.manager.to_dict()
        data["deployments"] = {
            "monitoring": self.monitoring,
            "placement": [[m, v, p] for (m, v), p in self.placement.items()],
            "replicas": [[m, v, n] for (m, v), n in self.replicas.items()],
        }
        self.save_checkpoint(data)

    async def _record(self, model: str, rec: dict[str, Any]) -> None:
        """A decision into the metadata store, with its numbers (not for repeated holds)."""
        if rec.get("action") == "hold":
            return
        st = self.manager.state(model)
        plan = st.rollout.plan if st.rollout is not None else None
        await asyncio.to_thread(record_decision, self.settings, model, plan, rec)

    async def _reconcile(self, *, retire_at_once: bool = False) -> None:
        """Deploy model servers the tables need; retire those no table has needed for a while.

        Args:
            retire_at_once: delete unrouted servers now and wait until they are gone
                (a strategy that ``recreates``), not after the grace that lets every
                ingress replica move to the new table first.
        """
        servers = _servers()
        want = self.manager.deployed()
        missing = sorted(want - self._deployed)
        if missing and not retire_at_once:
            await self._deploy(*missing)
        unrouted = self._deployed - want
        for model, version in sorted(self.retirements.due(unrouted, now=time.time(), at_once=retire_at_once)):
            # recreate waits for the old servers to be gone before the new ones start; otherwise
            # waiting out the replicas' graceful shutdown would hold the lock (and every
            # rollout call) for seconds
            await asyncio.to_thread(servers.delete_server, model, version, blocking=retire_at_once)
            self._deployed.discard((model, version))
        if missing and retire_at_once:
            await self._deploy(*missing)

    async def _deploy(self, *keys: tuple[str, int]) -> None:
        """Deploy model servers (one Serve app per version), all at once: Serve starts them in parallel."""
        await asyncio.to_thread(
            _servers().run_servers, list(keys), settings=self.settings, replicas=self.replicas,
            placement=self.placement, faults=self.faults, monitoring=self.monitoring,
        )  # fmt: skip
        self._deployed.update(keys)

    # ------------------------------------------------------------------ API
    async def ping(self) -> str:
        self._begin()
        return "ok"

    async def get_tables(self, revision: int) -> dict[str, Any] | None:
        """Every routing table, or None when nothing changed since ``revision``."""
        self._begin()
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
        async with self._begin():
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
        """Start a rollout; the new version is deployed (and healthy) before it gets traffic.

        A strategy that ``recreates`` removes the old version first, then deploys the new
        one (with downtime, which is measured and reported).
        """
        p = RolloutPlan.from_dict(plan)
        async with self._begin():
            self.manager.state(p.model)  # an unknown model is a 404 before anything is deployed
            self.replicas[(p.model, p.to_version)] = int(replicas)
            if faults:
                self.faults[(p.model, p.to_version)] = dict(faults)
            if p.rollout_strategy.recreates:
                # the old version goes first, then the new one comes up (downtime)
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
        async with self._begin():
            rec = self.manager.promote(model, now=time.time(), reason=reason)
            await self._record(model, rec.to_dict())
            await self._reconcile()
            self._checkpoint()
        return self.manager.status(model)

    async def rollback(self, model: str, reason: str = "rolled back by operator") -> dict[str, Any]:
        async with self._begin():
            rec = self.manager.rollback(model, now=time.time(), reason=reason)
            await self._record(model, rec.to_dict())
            await self._reconcile()
            self._checkpoint()
        return self.manager.status(model)

    async def set_percent(self, model: str, percent: float) -> dict[str, Any]:
        async with self._begin():
            rec = self.manager.set_percent(model, percent, now=time.time())
            await self._record(model, rec.to_dict())
            self._checkpoint()
        return self.manager.status(model)

    async def status(self, model: str) -> dict[str, Any]:
        self._begin()
        return self.manager.status(model)

    async def models(self) -> list[str]:
        return sorted(self.manager.models)

    async def report(self, payload: dict[str, Any]) -> None:
        self._begin()
        self.manager.report(payload)

    async def feedback(self, model: str, request_id: str, labels: list[Any]) -> int:
        version, errors = self.manager.score_feedback(model, request_id, labels)
        if self.monitoring.get(model, {}) is not None:
            try:
                get_monitor(self.settings, model, create=False).feedback.remote(version, errors)  # fire and forget
            except Exception:  # noqa: BLE001 - no monitor: feedback still scores the rollout
                pass
        return len(errors)


def get_controller(settings: Settings, *, create: bool = True, gate_interval_s: float = 5.0) -> Any:
    """The controller actor of ``settings`` (created, detached, if missing and ``create``).

    Raises:
        ValueError: with ``create=False`` when no controller runs.
    """
    return detached_actor(
        RolloutController, controller_name(settings), settings.model_dump(), gate_interval_s,
        create=create, max_concurrency=64,
    )  # fmt: skip
