"""Recording lineage from any node of a Ray cluster with the default SQLite store.

A SQLite file lives on one disk, so tasks and actors on other nodes cannot open it.
The store actor is a named, detached Ray actor pinned to the head node that owns the
store; :class:`RemoteMetadataStore` implements :class:`~raymlops.metadata.api.MetadataAPI`
method by method by calling it. The actor also hosts the services that keep tables or
files next to the store (the registry's versions, the tracker's metrics, the artifact
store's blobs): each passes its class, and the actor builds the instance with the
class's ``hosted(store, settings)``. A server database (PostgreSQL, MySQL) needs none of
this: every process connects directly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import ray

from raymlops.core.config import Settings
from raymlops.core.errors import RaymlopsError
from raymlops.core.runtime import detached_actor, service_name
from raymlops.metadata.api import MetadataAPI
from raymlops.metadata.lineage import NodeId
from raymlops.metadata.store import MetadataStore
from raymlops.metadata.types import Artifact, Context, Event, Execution, LineageGraph

__all__ = ["RemoteMetadataStore", "RemoteService", "StoreActor", "StoreClient", "store_actor"]

E = TypeVar("E")


class StoreActor:
    """Owns the store (and the services hosted next to it) on the head node and serves calls."""

    def __init__(self, settings: dict[str, Any]):
        self._settings = Settings(**settings)
        os.makedirs(self._settings.home, exist_ok=True)
        self._store = MetadataStore(self._settings.metadata_uri)
        self._hosted: dict[type, Any] = {}

    def call(self, target: type | None, method: str, args: tuple, kwargs: dict) -> Any:
        if method.startswith("__"):
            raise AttributeError(method)
        if target is None:
            obj: Any = self._store
        else:
            obj = self._hosted.get(target)
            if obj is None:
                obj = self._hosted[target] = target.hosted(self._store, self._settings)
        return getattr(obj, method)(*args, **kwargs)

    def ping(self) -> str:
        return "ok"


def store_actor(settings: Settings):
    """The store actor for ``settings``, created on the head node if it is not running."""
    return detached_actor(
        StoreActor,
        service_name(settings, "store"),
        settings.model_dump(),
        max_concurrency=1,  # one writer: SQLite serialises writes anyway
        resources={"node:__internal_head__": 0.001},
    )


class StoreClient:
    """Calls the store actor; unwraps the errors raised there."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._handle = None

    def __reduce__(self):
        return (type(self), (self.settings,))

    def call(self, target: type | None, method: str, *args: Any, **kwargs: Any) -> Any:
        if self._handle is None:
            self._handle = store_actor(self.settings)
        try:
            return ray.get(self._handle.call.remote(target, method, args, kwargs))
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, (RaymlopsError, ValueError, KeyError, TypeError)):
                raise cause from None
            raise


class RemoteService:
    """Base of the proxies of hosted services: ``_call(method, ...)`` runs on the store actor.

    Args:
        settings: the settings whose store actor hosts the service.
        target: the hosted class (it has a ``hosted(store, settings)`` classmethod).
    """

    def __init__(self, settings: Settings, target: type):
        self._settings = settings
        self._target = target
        self._client = StoreClient(settings)

    def __reduce__(self):
        return (type(self), (self._settings, self._target))

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._client.call(self._target, method, *args, **kwargs)


class RemoteMetadataStore(MetadataAPI):
    """The metadata store API, served by the store actor on the head node."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client = StoreClient(settings)

    def __reduce__(self):
        return (type(self), (self.settings,))

    def __repr__(self) -> str:
        return f"RemoteMetadataStore(actor={service_name(self.settings, 'store')!r})"

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._client.call(None, method, *args, **kwargs)

    def _put_execution(self, execution, inputs, outputs, contexts) -> dict[str, Any]:
        return self._call("_put_execution", execution, inputs, outputs, contexts)

    def put_type(self, kind: str, name: str, properties: Mapping[str, str] | None = None) -> int:
        return self._call("put_type", kind, name, properties)

    def get_type(self, kind: str, name: str) -> dict[str, str] | None:
        return self._call("get_type", kind, name)

    def put_artifact(self, artifact: Artifact, *, contexts: Sequence[Context] = ()) -> Artifact:
        stored = self._call("put_artifact", artifact, contexts=list(contexts))
        artifact.id = stored.id
        return artifact

    def put_context(self, context: Context) -> Context:
        context.id = self._call("put_context", context).id
        return context

    def get_artifacts(
        self,
        *,
        type: str | None = None,
        ids: Iterable[int] | None = None,
        uri: str | None = None,
        sha256: str | None = None,
        context_id: int | None = None,
        limit: int | None = None,
    ) -> list[Artifact]:
        return self._call(
            "get_artifacts", type=type, ids=_listed(ids), uri=uri, sha256=sha256, context_id=context_id, limit=limit
        )

    def get_artifact(self, artifact_id: int) -> Artifact:
        return self._call("get_artifact", artifact_id)

    def get_executions(
        self,
        *,
        type: str | None = None,
        ids: Iterable[int] | None = None,
        state: str | None = None,
        context_id: int | None = None,
        limit: int | None = None,
    ) -> list[Execution]:
        return self._call("get_executions", type=type, ids=_listed(ids), state=state, context_id=context_id, limit=limit)

    def get_execution(self, execution_id: int) -> Execution:
        return self._call("get_execution", execution_id)

    def count_executions(self, *, type: str | None = None) -> int:
        return self._call("count_executions", type=type)

    def get_contexts(self, *, type: str | None = None, name: str | None = None) -> list[Context]:
        return self._call("get_contexts", type=type, name=name)

    def get_context(self, type: str, name: str) -> Context | None:
        return self._call("get_context", type, name)

    def get_contexts_of(self, *, execution_id: int | None = None, artifact_id: int | None = None) -> list[Context]:
        return self._call("get_contexts_of", execution_id=execution_id, artifact_id=artifact_id)

    def get_events(self, *, execution_id: int | None = None, artifact_id: int | None = None) -> list[Event]:
        return self._call("get_events", execution_id=execution_id, artifact_id=artifact_id)

    def lineage(self, starts: NodeId | Sequence[NodeId], *, direction: str = "both", hops: int = 20) -> LineageGraph:
        return self._call("lineage", starts, direction=direction, hops=hops)

    def extension(self, cls: type[E]) -> E:
        return cls.remote_class(self.settings, cls)  # type: ignore[attr-defined]


def _listed(ids: Iterable[int] | None) -> list[int] | None:
    """Ids as a list (a generator cannot travel to the actor)."""
    return None if ids is None else list(ids)
