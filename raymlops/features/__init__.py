"""The feature store on Ray: definitions, point-in-time training sets, online features.

* Definitions (:mod:`~raymlops.features.definitions`, :mod:`~raymlops.features.repo`):
  entities, file sources, feature views with a TTL, feature services, in one YAML file
  with Feast's field names or as Python objects; ``apply`` checks them against the files
  and records a version in the metadata store when they changed.
* Offline (:mod:`~raymlops.features.pit`, the pure kernel; :mod:`~raymlops.features.ray_ops`,
  the Ray Data shell): the point-in-time join with Feast's DuckDB semantics (every entity
  row kept, in order; TTL; newest event, then created time), hash-partitioned by key or
  broadcast; retrieval by time range without an entity table. The training set is a
  ``Dataset`` artifact whose lineage names the definitions version and the sources' hashes.
* Online (:mod:`~raymlops.features.online`): SQLite (default) or Redis stores with
  newest-wins writes, incremental materialization that does not skip late rows, reads
  that enforce the TTL, freshness per view (``features status`` and a Ray metric).
* Serving (:class:`OnlineFeatureJoiner`, :class:`ServiceBinding`): a model version bound to
  a feature service (:meth:`FeatureStore.bind_model`) is served by entity key: its model
  servers join the online features into each request, and publish each view's freshness
  as a Ray metric (:mod:`~raymlops.features.metrics`).
"""

from __future__ import annotations

from raymlops.features.binding import ServiceBinding
from raymlops.features.definitions import Entity, Feature, FeatureService, FeatureView, FileSource
from raymlops.features.online import MemoryOnlineStore, OnlineStore, SqliteOnlineStore, open_online_store
from raymlops.features.online_read import NOT_FOUND, OUTSIDE_MAX_AGE, PRESENT, OnlineReader, OnlineResult
from raymlops.features.pit import point_in_time_join
from raymlops.features.repo import DefinitionError, Repository, load_repo
from raymlops.features.serving import FeatureRequestError, OnlineFeatureJoiner
from raymlops.features.store import FeatureStore

__all__ = [
    "NOT_FOUND",
    "OUTSIDE_MAX_AGE",
    "PRESENT",
    "DefinitionError",
    "Entity",
    "Feature",
    "FeatureRequestError",
    "FeatureService",
    "FeatureStore",
    "FeatureView",
    "FileSource",
    "MemoryOnlineStore",
    "OnlineFeatureJoiner",
    "OnlineReader",
    "OnlineResult",
    "OnlineStore",
    "Repository",
    "ServiceBinding",
    "SqliteOnlineStore",
    "load_repo",
    "open_online_store",
    "point_in_time_join",
]
