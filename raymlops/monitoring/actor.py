"""The drift monitor actor: one named, detached Ray actor per served model.

A thin shell around :class:`~raymlops.monitoring.live.DriftMonitor`. Model-server
replicas send it their per-window profiles (fire-and-forget; serving never waits on it);
the rollout controller forwards feedback errors and asks for the drift flag of a canary.
A clock closes due windows, records every alert change in the metadata store (a
``DriftAlert`` execution whose input is the model version's artifact), exports the
scores as Ray metrics (``raymlops_drift_statistic``, ``raymlops_drift_detected``,
``raymlops_dataset_drift_share``: the Ray dashboard and Prometheus/Grafana see them), and
checkpoints the whole state to ``$RAYMLOPS_HOME/monitoring/NAME.json`` a few seconds
after any change. Ray restarts a dead monitor (``max_restarts=-1``) and the new one
restores from that checkpoint.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from ray.util import metrics

from raymlops.core.config import Settings
from raymlops.core.runtime import detached_actor, service_name
from raymlops.core.service import ClockedService
from raymlops.metadata import Context, Execution, connect
from raymlops.monitoring.live import DriftMonitor, load_reference
from raymlops.registry import ModelRegistry

__all__ = ["MonitorActor", "get_monitor", "monitor_name", "DEFAULT_CONFIG"]

DEFAULT_CONFIG: dict[str, Any] = {"window_s": 60.0, "horizon_windows": 10, "preset": "evidently", "min_rows": 1000}
log = logging.getLogger("raymlops")


def monitor_name(settings: Settings, model: str) -> str:
    return service_name(settings, "monitor", model)


class MonitorActor(ClockedService):
    """The actor's implementation (wrapped with ``ray.remote`` by :func:`get_monitor`).

    Args:
        settings: raymlops settings as a dict.
        model: the model's name.
        config: :class:`DriftMonitor` arguments (``window_s``, ``preset``, ...), used when
            there is no checkpoint to restore.
        tick_s: how often due windows are closed.
        checkpoint_s: the longest a change waits before it is checkpointed.
    """

    def __init__(
        self,
        settings: dict[str, Any],
        model: str,
        config: dict[str, Any] | None = None,
        tick_s: float = 0.5,
        checkpoint_s: float = 2.0,
    ):
        self.settings = Settings(**settings)
        self.model = model
        self.checkpoint_s = checkpoint_s
        path = os.path.join(str(self.settings.home), "monitoring", f"{model}.json")
        super().__init__(name=f"drift monitor {model}", checkpoint_path=path, tick_s=tick_s)
        self.restored_from: str | None = None
        self.monitor: DriftMonitor | None = None
        saved = self.restore()
        if saved is not None:
            try:
                self.monitor = DriftMonitor.from_dict(saved)
                self.restored_from = path
            except (ValueError, KeyError) as exc:
                log.warning("drift monitor %s: checkpoint %s unusable (%s); starting empty", model, path, exc)
        if self.monitor is None:
            self.monitor = DriftMonitor(model, **{**DEFAULT_CONFIG, **(config or {})})
        self.started = time.time()
        self.dirty = False
        self.received = 0
        self._gauges: dict[str, Any] | None = None
        self._refs_tried: set[int] = set(self.monitor.references)

    # ------------------------------------------------------------------ plumbing
    async def on_tick(self) -> None:
        await self._tick()

    async def _tick(self, now: float | None = None) -> list[dict[str, Any]]:
        closed = await asyncio.to_thread(self.monitor.close_due, now)
        alerts = self.monitor.pop_alerts()
        if alerts:
            await asyncio.to_thread(self._record, alerts)
        if closed:
            self._export(closed)
            self.dirty = True
        if self.dirty and (closed or time.time() - self.last_checkpoint >= self.checkpoint_s):
            await asyncio.to_thread(self._checkpoint)
        return closed

    def _checkpoint(self) -> None:
        self.save_checkpoint(self.monitor.to_dict(), allow_nan=False)
        self.dirty = False

    def _record(self, alerts: list[Any]) -> None:
        store = connect(self.settings)
        reg = ModelRegistry.connect(self.settings)
        for a in alerts:
            inputs = []
            try:
                inputs = [store.get_artifact(reg.get(f"{a.model}@{a.version}")["artifact_id"])]
            except Exception:  # noqa: BLE001 - an alert is recorded even if the version vanished
                pass
            d = a.to_dict()
            store.put_execution(
                Execution(
                    type="DriftAlert",
                    name=f"{a.model}@{a.version} {a.subject} {a.state}",
                    state="COMPLETE",
                    properties={k: v for k, v in d.items() if v is not None},
                ),
                inputs=inputs,
                contexts=[Context(type="Monitoring", name=a.model)],
            )

    def _export(self, closed: list[dict[str, Any]]) -> None:
        if self._gauges is None:
            keys = ("model", "version", "feature", "test")
            self._gauges = {
                "statistic": metrics.Gauge("raymlops_drift_statistic", "drift statistic of a feature in the last window", tag_keys=keys),
                "drift": metrics.Gauge("raymlops_drift_detected", "1 when the feature drifted in the last window", tag_keys=keys),
                "share": metrics.Gauge("raymlops_dataset_drift_share", "share of drifted features in the last window", tag_keys=("model", "version")),
            }
        for res in closed:
            if not res.get("judged"):
                continue
            rows = list(res["features"]) + ([res["prediction"]] if res.get("prediction") else [])
            for f in rows:
                tags = {"model": self.model, "version": str(res["version"]), "feature": f["feature"], "test": f["test"]}
                if f["statistic"] is not None:
                    self._gauges["statistic"].set(float(f["statistic"]), tags=tags)
                self._gauges["drift"].set(1.0 if f["drift"] else 0.0, tags=tags)
            self._gauges["share"].set(float(res["drift_share"]), tags={"model": self.model, "version": str(res["version"])})

    async def _reference(self, version: int) -> None:
        if version in self._refs_tried:
            return
        self._refs_tried.add(version)

        def load() -> Any:
            return load_reference(ModelRegistry.connect(self.settings), f"{self.model}@{version}")

        try:
            prof = await asyncio.to_thread(load)
        except Exception as exc:  # noqa: BLE001 - counted, not judged
            log.warning("drift monitor %s: no reference for version %s (%s)", self.model, version, exc)
            prof = None
        self.monitor.set_reference(version, prof)

    # ------------------------------------------------------------------ API
    async def ping(self) -> dict[str, Any]:
        self.ensure_clock()
        return {"restored_from": self.restored_from, "started": self.started}

    async def ingest(self, version: int, windows: list[tuple[int, Any]]) -> None:
        """A replica's flush: ``[(window, Profile), ...]`` of ``version``."""
        self.ensure_clock()
        await self._reference(int(version))
        for window, profile in windows:
            self.monitor.ingest(int(version), int(window), profile)
            self.received += profile.rows
        self.dirty = True

    async def feedback(self, version: int, errors: list[float]) -> None:
        """Prediction errors of ``version`` from feedback labels (concept drift)."""
        self.ensure_clock()
        self.monitor.feedback(int(version), errors)
        self.dirty = True

    async def drift_flag(self, version: int) -> bool | None:
        self.ensure_clock()
        return self.monitor.drift_flag(int(version))

    async def tick(self, now: float | None = None) -> list[dict[str, Any]]:
        """Close due windows now (``now`` may be in the future: tests, drills)."""
        self.ensure_clock()
        return await self._tick(now)

    async def status(self) -> dict[str, Any]:
        self.ensure_clock()
        out = self.monitor.status()
        out["restored_from"] = self.restored_from
        out["rows_received_since_start"] = self.received
        return out


def get_monitor(settings: Settings, model: str, *, config: dict[str, Any] | None = None, create: bool = True):
    """The monitor actor of ``model`` (created, detached, if missing and ``create``)."""
    return detached_actor(
        MonitorActor, monitor_name(settings, model), settings.model_dump(), model, config, create=create, max_task_retries=-1
    )
