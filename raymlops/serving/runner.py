"""One model version, loaded and ready to predict validated request bodies: :class:`ModelRunner`.

The plain part of a model server (:mod:`raymlops.serving.server_deployment` is its Serve
shell): it loads one registered version (the registry verifies the artifact's sha256
first), validates each request body against the version's signature
(:func:`~raymlops.serving.protocol.parse_predict_request`), and predicts a batch of
validated frames at once (the registered model carries the fitted feature transform, so
it applies it).

A version registered with a feature service (the registry attachment of
:mod:`raymlops.features.binding`) is served by entity key: each request's instances
(``{"driver_id": 5}``) are joined with the service's online features before validation,
in one online-store read per request; a feature value the request carries overrides the
store. The joined frame is what the model predicts and what the drift sketches see.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from raymlops.core.config import Settings
from raymlops.core.values import plain
from raymlops.features.binding import load_binding, open_service
from raymlops.features.serving import REQUEST, FeatureRequestError, OnlineFeatureJoiner
from raymlops.registry import ModelRegistry
from raymlops.serving.protocol import InvalidInstancesError, instances_frame, load_instances, parse_predict_request

__all__ = ["ModelRunner"]


def _predictions(values: Any) -> list[Any]:
    """A model's predictions as a list of plain Python values."""
    return plain(values.tolist() if hasattr(values, "tolist") else list(values))


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
        registry = ModelRegistry.connect(settings)
        self.model_name = model
        self.version = int(version)
        self.record = registry.get(f"{model}@{version}")
        self.model = registry.load(f"{model}@{version}")
        self.signature = self.record["signature"]
        self.max_bytes = max_bytes
        self.max_instances = max_instances
        binding = load_binding(registry, f"{model}@{version}")
        self.features: OnlineFeatureJoiner | None = None
        if binding is not None:
            columns = [i["name"] for i in self.signature.get("inputs", [])]
            self.features = open_service(binding, columns, settings or Settings.resolve())

    def parse(self, body: bytes) -> Any:
        """A validated frame, or raise a :class:`ClientError` (4xx)."""
        if self.features is None:
            return parse_predict_request(body, self.signature, max_bytes=self.max_bytes, max_instances=self.max_instances)
        instances = load_instances(body, max_bytes=self.max_bytes, max_instances=self.max_instances)
        try:
            rows, statuses = self.features.join(instances)
        except FeatureRequestError as exc:
            raise InvalidInstancesError(exc.message, details=exc.details) from None
        stored = [frozenset(c for c, st in status.items() if st != REQUEST) for status in statuses]
        return instances_frame(rows, self.signature, stored=stored)

    def predict_frames(self, frames: list[Any]) -> list[list[Any]]:
        """Predict several requests' frames in one call; one list of predictions each."""
        return self.split(frames, self.predict_concat(frames)[1])

    def predict_concat(self, frames: list[Any]) -> tuple[Any, list[Any]]:
        """The requests' frames as one frame, and its predictions (one model call)."""
        whole = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return whole, _predictions(self.model.predict(whole))

    @staticmethod
    def split(frames: list[Any], preds: list[Any]) -> list[list[Any]]:
        """Cut the flat predictions back into one list per request."""
        sizes = [len(f) for f in frames]
        out, i = [], 0
        for n in sizes:
            out.append(preds[i : i + n])
            i += n
        return out
