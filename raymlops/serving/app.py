"""The app builder: the Serve application, importable as ``raymlops.serving.app:build_app``.

``serve run raymlops.serving.app:build_app models=iris@champion``, a Serve config file
(``cluster/serve.yaml``), a KubeRay RayService (``cluster/kuberay/rayservice.yaml``) and
``raymlops serve up`` all deploy the same thing: the ingress application at ``/`` plus one
model-server application per live version, deployed by the rollout controller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ray
from ray import serve

from raymlops.core import runtime
from raymlops.core.config import Settings
from raymlops.serving.controller_actor import get_controller
from raymlops.serving.ingress_deployment import Ingress

__all__ = ["INGRESS_APP", "build_app", "deploy", "shutdown"]

INGRESS_APP = "raymlops"


def build_app(args: Mapping[str, Any] | None = None) -> Any:
    """Build the ingress application (Serve's application builder).

    Args:
        args: ``models`` (a list or a comma-separated string of refs to serve),
            ``home``, ``metadata_uri``, ``max_bytes``, ``gate_interval_s``.
    """
    args = dict(args or {})
    models = args.get("models") or []
    if isinstance(models, str):
        models = [m for m in models.split(",") if m]
    settings = Settings.resolve(home=args.get("home"), metadata_uri=args.get("metadata_uri"))
    get_controller(settings, gate_interval_s=float(args.get("gate_interval_s", 5.0)))
    return Ingress.bind(settings.model_dump(), list(models), int(args.get("max_bytes", 1 << 20)))


def deploy(
    settings: Settings,
    *,
    models: Sequence[str] = (),
    host: str = "127.0.0.1",
    port: int = 8000,
    gate_interval_s: float = 5.0,
    ingress_replicas: int = 1,
    max_bytes: int = 1 << 20,
    proxy_location: str | None = None,
) -> str:
    """Start Serve (if needed) and deploy the ingress and the given models; returns the URL.

    ``proxy_location`` is Serve's (``HeadOnly``, ``EveryNode``); several nodes on one host
    need ``HeadOnly`` (one HTTP port).
    """
    runtime.init(settings)
    extra = {"proxy_location": proxy_location} if proxy_location else {}
    serve.start(http_options={"host": host, "port": port}, logging_config={"log_level": "WARNING"}, **extra)
    controller = get_controller(settings, gate_interval_s=gate_interval_s)
    ray.get(controller.ping.remote())
    app = Ingress.options(num_replicas=ingress_replicas).bind(settings.model_dump(), list(models), max_bytes)
    serve.run(app, name=INGRESS_APP, route_prefix="/")
    return f"http://{host}:{port}"


def shutdown() -> None:
    """Shut Serve down: the ingress and every model server of this cluster."""
    serve.shutdown()
