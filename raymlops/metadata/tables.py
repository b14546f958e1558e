"""SQL tables of the metadata store (SQLAlchemy Core), after ML Metadata's data model.

``types`` holds artifact, execution and context types with their typed properties;
``artifacts``, ``executions`` and ``contexts`` their instances; ``events`` link artifacts
to executions (INPUT/OUTPUT); ``attributions`` and ``associations`` put artifacts and
executions in contexts.

Packages above keep their own tables in the same database (the registry's versions and
aliases, the tracker's metric history): they define them on :data:`metadata_obj`, so
their foreign keys can name ``artifacts.id`` and ``executions.id``, and create them
through :class:`~raymlops.metadata.extensions.StoreExtension`.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import Table as _Table

__all__ = [
    "CORE_TABLES",
    "SCHEMA_VERSION",
    "artifacts",
    "associations",
    "attributions",
    "contexts",
    "events",
    "executions",
    "metadata_obj",
    "schema_version",
    "table",
    "types",
]

SCHEMA_VERSION = 1

metadata_obj = MetaData()


def table(name: str, *cols, **kw) -> _Table:
    """A table in the store's database (on :data:`metadata_obj`)."""
    return _Table(name, metadata_obj, *cols, **kw)


schema_version = table("schema_version", Column("version", Integer, primary_key=True))

types = table(
    "types",
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # artifact | execution | context
    Column("name", String(255), nullable=False),
    Column("properties", Text, nullable=False, default="{}"),  # {"prop": "INT"|...}
    UniqueConstraint("kind", "name", name="uq_types_kind_name"),
)

artifacts = table(
    "artifacts",
    Column("id", Integer, primary_key=True),
    Column("type_id", Integer, ForeignKey("types.id"), nullable=False),
    Column("name", String(255)),
    Column("uri", Text, nullable=False, default=""),
    Column("sha256", String(64)),
    Column("state", String(32), nullable=False),
    Column("properties", Text, nullable=False, default="{}"),
    Column("custom_properties", Text, nullable=False, default="{}"),
    Column("create_time", Float, nullable=False),
    Column("update_time", Float, nullable=False),
    Index("ix_artifacts_type", "type_id"),
    Index("ix_artifacts_sha256", "sha256"),
    Index("ix_artifacts_uri", "uri"),
)

executions = table(
    "executions",
    Column("id", Integer, primary_key=True),
    Column("type_id", Integer, ForeignKey("types.id"), nullable=False),
    Column("name", String(255)),
    Column("state", String(16), nullable=False),
    Column("error", Text),
    Column("properties", Text, nullable=False, default="{}"),
    Column("custom_properties", Text, nullable=False, default="{}"),
    Column("create_time", Float, nullable=False),
    Column("update_time", Float, nullable=False),
    Index("ix_executions_type", "type_id"),
)

events = table(
    "events",
    Column("id", Integer, primary_key=True),
    Column("artifact_id", Integer, ForeignKey("artifacts.id"), nullable=False),
    Column("execution_id", Integer, ForeignKey("executions.id"), nullable=False),
    Column("type", String(8), nullable=False),  # INPUT | OUTPUT
    Column("path", String(255)),
    Column("time", Float, nullable=False),
    Index("ix_events_artifact", "artifact_id", "type", "execution_id"),  # covering: lineage walks
    Index("ix_events_execution", "execution_id", "type", "artifact_id"),
)

contexts = table(
    "contexts",
    Column("id", Integer, primary_key=True),
    Column("type_id", Integer, ForeignKey("types.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("properties", Text, nullable=False, default="{}"),
    Column("custom_properties", Text, nullable=False, default="{}"),
    Column("create_time", Float, nullable=False),
    UniqueConstraint("type_id", "name", name="uq_contexts_type_name"),
)

attributions = table(
    "attributions",
    Column("context_id", Integer, ForeignKey("contexts.id"), primary_key=True),
    Column("artifact_id", Integer, ForeignKey("artifacts.id"), primary_key=True),
    Index("ix_attributions_artifact", "artifact_id"),
)

associations = table(
    "associations",
    Column("context_id", Integer, ForeignKey("contexts.id"), primary_key=True),
    Column("execution_id", Integer, ForeignKey("executions.id"), primary_key=True),
    Index("ix_associations_execution", "execution_id"),
)

CORE_TABLES = (schema_version, types, artifacts, executions, events, contexts, attributions, associations)
"""The tables the store creates itself; extensions create theirs."""
