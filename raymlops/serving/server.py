"""Model servers: one Ray Serve deployment per live model version.

:class:`ModelRunner` is the plain part: it loads one registered version (the registry
verifies the artifact's sha256 first), validates each request body against the
version's signature (:func:`~raymlops.serving.protocol.parse_predict_request`), and
predicts a batch of validated frames at once (the registered model carries the fitted
feature transform, so it applies it). :class:`ModelServer` is the Serve shell: request
batching with ``@serve.batch`` and optional fault injection for drills.

A server answers ``{"predictions": [...], "model_version": v}`` or, for a client's
mistake, ``{"error": {...}, "status": 4xx}``; it raises only for its own failures.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping
from typing import Any

from ray import serve

from raymlops.config import Settings
from raymlops.serving.protocol import ClientError, parse_predict_request

__all__ = ["ModelRunner", "ModelServer", "app_name", "InjectedFault"]


def app_name(model: str, version: int) -> str:
    """The Serve application name of a model version."""
    return f"raymlops-{model}-v{version}"


class InjectedFault(RuntimeError):
    """A failure injected on purpose (fault drills and rollback tests)."""


def _plain(values: Any) -> list[Any]:
    out = values.tolist() if hasattr(values, "tolist") else list(values)
    return [v.item() if hasattr(v, "item") else v for v in out]


class ModelRunner:
    """Loads one model version and predicts validated request bodies.

    Args:
        model: the registered model name.
        version: its version.
        settings: where the registry is.
        max_bytes, max_instances: request limits.
    """

    def __init__(
        self,
        model: str,
        version: int,
        settings: Settings | None = None,
        *,
        max_bytes: int = 1 << 20,
        max_instances: int = 1000,
    ):
        from raymlops.registry import ModelRegistry

        registry = ModelRegistry.connect(settings)
        self.model_name = model
        self.version = int(version)
        self.record = registry.get(f"{model}@{version}")
        self.model = registry.load(f"{model}@{version}")
        self.signature = self.record["signature"]
        self.max_bytes = max_bytes
        self.max_instances = max_instances

    def parse(self, body: bytes) -> Any:
        """A validated frame, or raise a :class:`ClientError` (4xx)."""
        return parse_predict_request(body, self.signature, max_bytes=self.max_bytes, max_instances=self.max_instances)

    def predict_frames(self, frames: list[Any]) -> list[list[Any]]:
        """Predict several requests' frames in one call; one list of predictions each."""
        import pandas as pd

        sizes = [len(f) for f in frames]
        preds = _plain(self.model.predict(pd.concat(frames, ignore_index=True)))
        out, i = [], 0
        for n in sizes:
            out.append(preds[i : i + n])
            i += n
        return out


@serve.deployment(
    ray_actor_options={"num_cpus": 0.1},
    max_ongoing_requests=64,
    health_check_period_s=2,
    graceful_shutdown_timeout_s=5,
)
class ModelServer:
    """A Serve deployment serving one model version with request batching.

    Args:
        model, version: what to serve.
        settings: raymlops settings as a dict (passed to every replica).
        faults: ``{"fail_rate": 0.3, "delay_ms": 200}`` to inject failures or latency.
    """

    def __init__(self, model: str, version: int, settings: Mapping[str, Any], faults: Mapping[str, float] | None = None):
        self.runner = ModelRunner(model, version, Settings(**settings))
        self.faults = dict(faults or {})

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.002)
    async def _predict_batch(self, frames: list[Any]) -> list[list[Any]]:
        return self.runner.predict_frames(frames)

    async def __call__(self, body: bytes) -> dict[str, Any]:
        delay = float(self.faults.get("delay_ms", 0))
        if delay:
            await asyncio.sleep(delay / 1000.0)
        if random.random() < float(self.faults.get("fail_rate", 0)):
            raise InjectedFault(f"injected failure in {self.runner.model_name}@{self.runner.version}")
        if self.faults.get("raise"):
            raise InjectedFault(f"injected failure in {self.runner.model_name}@{self.runner.version}")
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

    def check_health(self) -> None:
        """Serve's health check: the model is loaded."""
        if self.runner.model is None:  # pragma: no cover - defensive
            raise RuntimeError("model not loaded")
