"""The model-server deployment: one Ray Serve application per live model version.

:class:`ModelServer` is the Serve shell around a :class:`~raymlops.serving.runner.ModelRunner`:
request batching with ``@serve.batch``, drift monitoring (each batch's validated inputs
and predictions are buffered, sketched per window off the event loop and flushed every
``flush_s`` to the model's monitor actor without waiting for it; see
:mod:`raymlops.monitoring.live`), and optional fault injection for drills. Mirrored
requests (:meth:`ModelServer.predict_many`, a shadow's traffic) are parsed and predicted
on a worker thread of lower CPU priority (:mod:`raymlops.serving.priority`), so on
contended CPUs the primary's requests go first.
:func:`run_servers` and :func:`delete_server` are how the rollout controller starts and
retires them; :func:`app_name` names their applications.

A version served by entity key (registered with a feature service; see
:class:`~raymlops.serving.runner.ModelRunner`) keeps its online store open for the
replica's life, and a daemon thread re-reads the store's per-view state every
``FRESHNESS_S`` seconds and publishes the Ray metric ``raymlops_feature_freshness_seconds{view}``
(:mod:`raymlops.features.metrics`): the replica is the long-lived process that reads
the store, so that is where a metrics scraper finds the figure.

A server answers ``{"predictions": [...], "model_version": v}`` or, for a client's
mistake, ``{"error": {...}, "status": 4xx}``; it raises only for its own failures.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Mapping
from typing import Any

from ray import serve

from raymlops.core.config import Settings
from raymlops.features.metrics import publish_freshness
from raymlops.monitoring.actor import DEFAULT_CONFIG, get_monitor
from raymlops.monitoring.live import ReplicaSketcher, load_reference
from raymlops.registry import ModelRegistry
from raymlops.serving.priority import SHADOW_NICE, low_priority_executor
from raymlops.serving.protocol import ClientError
from raymlops.serving.runner import ModelRunner
from raymlops.sketches import NumericSketch

__all__ = ["FRESHNESS_S", "MAX_ONGOING_REQUESTS", "InjectedFault", "ModelServer", "app_name", "delete_server", "run_servers"]

log = logging.getLogger("raymlops")

MAX_ONGOING_REQUESTS = 64
"""A model-server replica's ``max_ongoing_requests`` (Serve queues the rest in the caller)."""

FRESHNESS_S = 5.0
"""How often a replica serving by entity key republishes its feature views' freshness."""


def app_name(model: str, version: int) -> str:
    """The Serve application name of a model version."""
    return f"raymlops-{model}-v{version}"


class InjectedFault(RuntimeError):
    """A failure injected on purpose (fault drills and rollback tests)."""


@serve.deployment(
    ray_actor_options={"num_cpus": 0.1},
    max_ongoing_requests=MAX_ONGOING_REQUESTS,
    health_check_period_s=2,
    graceful_shutdown_timeout_s=5,
)
class ModelServer:
    """A Serve deployment serving one model version with request batching.

    Args:
        model, version: what to serve.
        settings: raymlops settings as a dict (passed to every replica).
        faults: ``{"fail_rate": 0.3, "delay_ms": 200}`` to inject failures or latency.
        monitoring: drift-monitor settings (None: no monitoring).
        shadow_nice: how much the mirrored requests' worker thread raises its nice value.
    """

    def __init__(
        self,
        model: str,
        version: int,
        settings: Mapping[str, Any],
        faults: Mapping[str, float] | None = None,
        monitoring: Mapping[str, Any] | None = None,
        shadow_nice: int = SHADOW_NICE,
    ):
        self.settings = Settings(**settings)
        self.runner = ModelRunner(model, version, self.settings)
        self.faults = dict(faults or {})
        # its thread starts on the first mirrored batch: a primary-only server never has one
        self._shadow_pool = low_priority_executor(shadow_nice, name=f"shadow-{model}-v{version}")
        self.sketcher = None
        self.monitor = None
        self._flusher: asyncio.Task | None = None
        if monitoring is not None:
            self._start_monitoring(dict(monitoring))
        self._stop = threading.Event()
        if self.runner.features is not None:
            self._publish_freshness()
            threading.Thread(target=self._freshness_forever, name="feature-freshness", daemon=True).start()

    def _publish_freshness(self) -> None:
        reader = self.runner.features.reader
        reader.refresh()  # the newest materialized events (and key types) as the store has them now
        publish_freshness(reader.freshness())

    def _freshness_forever(self) -> None:
        while not self._stop.wait(FRESHNESS_S):
            try:
                self._publish_freshness()
            except Exception:  # noqa: BLE001 - a store blip never breaks serving; the next round retries
                log.exception("publishing feature freshness failed")

    def _start_monitoring(self, config: dict[str, Any]) -> None:
        """Sketch inputs and predictions per window; flush them to the model's monitor actor."""
        self.flush_s = float(config.pop("flush_s", 2.0))
        config = {**DEFAULT_CONFIG, **config}
        ref = load_reference(ModelRegistry.connect(self.settings), f"{self.runner.model_name}@{self.runner.version}")
        kinds = {}
        if ref is not None:  # sketch each column the way the reference did, so they compare
            kinds = {c: "numeric" if isinstance(s, NumericSketch) else "categorical" for c, s in ref.columns.items()}
        self.sketcher = ReplicaSketcher(
            window_s=config["window_s"], kinds=kinds, relative_accuracy=ref.relative_accuracy if ref is not None else 0.01
        )
        self.monitor = get_monitor(self.settings, self.runner.model_name, config=config)

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_s)
            try:
                await self._flush()
            except Exception:  # noqa: BLE001 - monitoring never breaks serving
                log.exception("flushing drift sketches failed")

    async def _flush(self) -> None:
        batches = self.sketcher.take()
        if batches:
            windows = await asyncio.to_thread(self.sketcher.sketch, batches)
            self.monitor.ingest.remote(self.runner.version, windows)  # fire and forget: serving never waits

    def _observe(self, whole: Any, preds: list[Any]) -> None:
        """Buffer a batch's inputs and predictions for the drift sketches (on the event loop)."""
        if self.sketcher is not None:
            if self._flusher is None or self._flusher.done():
                self._flusher = asyncio.get_running_loop().create_task(self._flush_forever())
            self.sketcher.observe(whole, preds)

    def _predict_frames(self, frames: list[Any]) -> list[list[Any]]:
        whole, preds = self.runner.predict_concat(frames)
        self._observe(whole, preds)
        return self.runner.split(frames, preds)

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.002)
    async def _predict_batch(self, frames: list[Any]) -> list[list[Any]]:
        return self._predict_frames(frames)

    def _fault(self) -> InjectedFault | None:
        if random.random() < float(self.faults.get("fail_rate", 0)) or self.faults.get("raise"):
            return InjectedFault(f"injected failure in {self.runner.model_name}@{self.runner.version}")
        return None

    async def _delay(self) -> None:
        delay = float(self.faults.get("delay_ms", 0))
        if delay:
            await asyncio.sleep(delay / 1000.0)

    async def __call__(self, body: bytes) -> dict[str, Any]:
        await self._delay()
        fault = self._fault()
        if fault is not None:
            raise fault
        try:
            frame = self.runner.parse(body)
        except ClientError as exc:
            return {"error": exc.body()["error"], "status": exc.http_status}
        t0 = time.perf_counter()
        predictions = await self._predict_batch(frame)
        return {
            "predictions": predictions,
            "model_version": self.runner.version,
            "server_ms": (time.perf_counter() - t0) * 1000,
        }

    async def predict_many(self, bodies: list[bytes]) -> list[dict[str, Any]]:
        """Several request bodies in one call (the ingress sends mirrored requests so).

        One answer per body, in order: ``{"predictions": [...]}``, a client error
        ``{"error": {...}, "status": 4xx}``, or ``{"error": {...}, "status": 500}`` for
        this server's own failure on that body. The bodies are parsed and predicted in
        one model call on the low-priority worker thread; a batch waits there behind the
        one before it.
        """
        await self._delay()
        out: list[dict[str, Any] | None] = [None] * len(bodies)
        todo = []
        for i, body in enumerate(bodies):
            fault = self._fault()
            if fault is not None:
                out[i] = {"error": {"code": "model_error", "message": str(fault), "details": []}, "status": 500}
            else:
                todo.append(i)
        loop = asyncio.get_running_loop()
        frames, where, whole, preds = await loop.run_in_executor(self._shadow_pool, self._parse_predict, bodies, todo, out)
        if frames:
            self._observe(whole, preds)
            for i, p in zip(where, self.runner.split(frames, preds)):
                out[i] = {"predictions": p, "model_version": self.runner.version}
        return out  # type: ignore[return-value]

    def _parse_predict(
        self, bodies: list[bytes], todo: list[int], out: list[dict[str, Any] | None]
    ) -> tuple[list[Any], list[int], Any, list[Any]]:
        """Parse ``bodies[todo]`` (client errors into ``out``) and predict the valid ones in one call (worker thread)."""
        frames, where = [], []
        for i in todo:
            try:
                frames.append(self.runner.parse(bodies[i]))
                where.append(i)
            except ClientError as exc:
                out[i] = {"error": exc.body()["error"], "status": exc.http_status}
        if not frames:
            return frames, where, None, []
        whole, preds = self.runner.predict_concat(frames)
        return frames, where, whole, preds

    def check_health(self) -> None:
        """Serve's health check: the model is loaded."""
        if self.runner.model is None:  # pragma: no cover - defensive
            raise RuntimeError("model not loaded")

    def __del__(self) -> None:
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()
        pool = getattr(self, "_shadow_pool", None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def run_servers(
    specs: list[tuple[str, int]],
    *,
    settings: Settings,
    replicas: Mapping[tuple[str, int], int],
    placement: Mapping[tuple[str, int], Mapping[str, Any]],
    faults: Mapping[tuple[str, int], Mapping[str, float]],
    monitoring: Mapping[str, Mapping[str, Any] | None],
) -> None:
    """Deploy model servers (one Serve application per version), all at once: Serve starts them in parallel.

    Blocks until they are up. ``replicas``, ``placement`` and ``faults`` are per
    ``(model, version)``, ``monitoring`` per model (None turns it off; missing is the
    default configuration).
    """
    targets = []
    for model, version in specs:
        key = (model, version)
        app = ModelServer.options(name="model", num_replicas=replicas.get(key, 1), **placement.get(key, {})).bind(
            model, version, settings.model_dump(), faults.get(key), monitoring.get(model, {})
        )
        targets.append(serve.RunTarget(app, name=app_name(model, version), route_prefix=None))
    serve.run_many(targets)


def delete_server(model: str, version: int, *, blocking: bool) -> None:
    """Delete the Serve application of ``model@version`` (waiting until it is gone when ``blocking``)."""
    serve.delete(app_name(model, version), _blocking=blocking)
