"""The metadata store: artifacts, executions, events, contexts and lineage.

ML Metadata's data model on SQLAlchemy Core. :func:`connect` returns the store for the
current settings: a direct SQL connection in a driver or with a server database, and a
proxy to the store actor on the head node inside Ray tasks and actors when the store
is the default SQLite file.

Example:
    >>> store = MetadataStore("sqlite://")
    >>> raw = Artifact(type="Dataset", uri="file:///data/raw.csv", properties={"rows": 150})
    >>> ex = store.put_execution(Execution(type="Ingest", state="COMPLETE"), outputs=[raw])
    >>> g = store.lineage(("artifact", raw.id), direction="up", hops=1)
    >>> sorted(g.nodes)
    ['artifact:1', 'execution:1']
"""

from __future__ import annotations

import threading

from raymlops.core.config import Settings
from raymlops.core.runtime import in_ray_worker
from raymlops.metadata.api import MetadataAPI, StepRecorder
from raymlops.metadata.extensions import StoreExtension
from raymlops.metadata.lineage import node_key, parse_node_id
from raymlops.metadata.remote import RemoteMetadataStore, RemoteService
from raymlops.metadata.store import MetadataStore
from raymlops.metadata.types import (
    ARTIFACT_STATES,
    EXECUTION_STATES,
    Artifact,
    Context,
    Event,
    Execution,
    LineageGraph,
)

__all__ = [
    "Artifact",
    "Context",
    "Event",
    "Execution",
    "LineageGraph",
    "MetadataAPI",
    "MetadataStore",
    "RemoteMetadataStore",
    "RemoteService",
    "StepRecorder",
    "StoreExtension",
    "ARTIFACT_STATES",
    "EXECUTION_STATES",
    "connect",
    "node_key",
    "parse_node_id",
]

_lock = threading.Lock()
_stores: dict[str, MetadataStore] = {}


def connect(settings: Settings | None = None) -> MetadataAPI:
    """The metadata store for ``settings`` (resolved from the environment by default).

    Inside a Ray task or actor with the default SQLite store, calls go to the store
    actor on the head node, so lineage can be recorded from any node.
    """
    settings = settings or Settings.resolve()
    if settings.is_sqlite and in_ray_worker():
        return RemoteMetadataStore(settings)
    with _lock:
        store = _stores.get(settings.metadata_uri)
        if store is None:
            if settings.metadata_uri.startswith(f"sqlite:///{settings.home}"):
                settings.ensure_home()
            store = _stores[settings.metadata_uri] = MetadataStore(settings.metadata_uri)
        return store
