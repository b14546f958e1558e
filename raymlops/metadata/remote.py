"""Recording lineage from any node of a Ray cluster with the default SQLite store.

A SQLite file lives on one disk, so tasks and actors on other nodes cannot open it.
The store actor is a named, detached Ray actor pinned to the head node that owns the
store (and the registry's blob folder); :class:`RemoteMetadataStore` and
:class:`RemoteBlobStore` are drop-in proxies that forward calls to it. A server
database (PostgreSQL, MySQL) needs none of this: every process connects directly.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from raymlops.core.config import Settings
from raymlops.core.errors import RaymlopsError
from raymlops.metadata.store import MetadataAPI, MetadataStore

__all__ = ["StoreActor", "RemoteMetadataStore", "RemoteBlobStore", "store_actor", "in_ray_worker", "NAMESPACE"]

NAMESPACE = "raymlops"


def in_ray_worker() -> bool:
    """True inside a Ray task or actor (not in a driver)."""
    import sys

    if "ray" not in sys.modules:
        return False
    import ray
    from ray._private.worker import WORKER_MODE, global_worker

    return ray.is_initialized() and global_worker.mode == WORKER_MODE


def actor_name(settings: Settings) -> str:
    digest = hashlib.sha1(f"{settings.metadata_uri}|{settings.home}".encode()).hexdigest()[:12]
    return f"raymlops-store-{digest}"


class StoreActor:
    """Owns the store and the blob folder on the head node and serves calls to them."""

    def __init__(self, uri: str, home: str):
        from raymlops.registry.blobs import BlobStore

        os.makedirs(home, exist_ok=True)
        self._targets: dict[str, Any] = {
            "metadata": MetadataStore(uri),
            "blobs": BlobStore(os.path.join(home, "artifacts")),
        }

    def call(self, target: str, method: str, args: tuple, kwargs: dict) -> Any:
        if method.startswith("__"):
            raise AttributeError(method)
        return getattr(self._targets[target], method)(*args, **kwargs)

    def ping(self) -> str:
        return "ok"


def store_actor(settings: Settings):
    """The store actor for ``settings``, created on the head node if it is not running."""
    import ray

    global _remote_cls
    if _remote_cls is None:
        _remote_cls = ray.remote(StoreActor)
    return _remote_cls.options(
        name=actor_name(settings),
        namespace=NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
        num_cpus=0,
        resources={"node:__internal_head__": 0.001},
        max_restarts=-1,
    ).remote(settings.metadata_uri, str(settings.home))


_remote_cls = None


class _Forwarder:
    """Forwards method calls to the store actor; unwraps errors raised there."""

    _target = ""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._handle = None

    def __reduce__(self):
        return (type(self), (self._settings,))

    def _actor(self):
        if self._handle is None:
            self._handle = store_actor(self._settings)
        return self._handle

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        import ray

        try:
            return ray.get(self._actor().call.remote(self._target, method, args, kwargs))
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, (RaymlopsError, ValueError, KeyError, TypeError)):
                raise cause from None
            raise

    def __getattr__(self, method: str):
        if method.startswith("__"):
            raise AttributeError(method)
        return lambda *a, **k: self._call(method, *a, **k)


class RemoteMetadataStore(_Forwarder, MetadataAPI):
    """The metadata store API, served by the store actor on the head node."""

    _target = "metadata"

    def _put_execution(self, execution, inputs, outputs, contexts):
        return self._call("_put_execution", execution, inputs, outputs, contexts)

    def __repr__(self) -> str:
        return f"RemoteMetadataStore(actor={actor_name(self._settings)!r})"


class RemoteBlobStore(_Forwarder):
    """The registry's blob store, served by the store actor; reads a local copy when one exists."""

    _target = "blobs"

    def get(self, sha256: str, *, what: str | None = None) -> bytes:
        from raymlops.registry.blobs import BlobStore

        local = BlobStore(self._settings.artifacts_dir)
        if local.exists(sha256):
            return local.get(sha256, what=what)
        return self._call("get", sha256, what=what)
