"""SQL tables of the metadata store (SQLAlchemy Core), after ML Metadata's data model.

``types`` holds artifact, execution and context types with their typed properties;
``artifacts``, ``executions`` and ``contexts`` their instances; ``events`` link artifacts
to executions (INPUT/OUTPUT); ``attributions`` and ``associations`` put artifacts and
executions in contexts. ``metrics`` keeps the step history of run metrics; the
``model_*`` tables are the registry's versions and aliases.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
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

SCHEMA_VERSION = 1

metadata_obj = MetaData()


def _table(name: str, *cols, **kw) -> _Table:
    return _Table(name, metadata_obj, *cols, **kw)


schema_version = _table("schema_version", Column("version", Integer, primary_key=True))

types = _table(
    "types",
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # artifact | execution | context
    Column("name", String(255), nullable=False),
    Column("properties", Text, nullable=False, default="{}"),  # {"prop": "INT"|...}
    UniqueConstraint("kind", "name", name="uq_types_kind_name"),
)

artifacts = _table(
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

executions = _table(
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

events = _table(
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

contexts = _table(
    "contexts",
    Column("id", Integer, primary_key=True),
    Column("type_id", Integer, ForeignKey("types.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("properties", Text, nullable=False, default="{}"),
    Column("custom_properties", Text, nullable=False, default="{}"),
    Column("create_time", Float, nullable=False),
    UniqueConstraint("type_id", "name", name="uq_contexts_type_name"),
)

attributions = _table(
    "attributions",
    Column("context_id", Integer, ForeignKey("contexts.id"), primary_key=True),
    Column("artifact_id", Integer, ForeignKey("artifacts.id"), primary_key=True),
    Index("ix_attributions_artifact", "artifact_id"),
)

associations = _table(
    "associations",
    Column("context_id", Integer, ForeignKey("contexts.id"), primary_key=True),
    Column("execution_id", Integer, ForeignKey("executions.id"), primary_key=True),
    Index("ix_associations_execution", "execution_id"),
)

metrics = _table(
    "metrics",
    Column("id", Integer, primary_key=True),
    Column("execution_id", Integer, ForeignKey("executions.id"), nullable=False),
    Column("key", String(255), nullable=False),
    Column("step", Integer, nullable=False),
    Column("value", Float, nullable=False),
    Column("time", Float, nullable=False),
    Index("ix_metrics_execution_key", "execution_id", "key", "step"),
)

model_versions = _table(
    "model_versions",
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("artifact_id", Integer, ForeignKey("artifacts.id"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("signature", Text, nullable=False, default="{}"),
    Column("description", Text),
    Column("metadata", Text, nullable=False, default="{}"),
    Column("run_id", Integer, ForeignKey("executions.id")),
    Column("create_time", Float, nullable=False),
    UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
)

model_aliases = _table(
    "model_aliases",
    Column("name", String(64), primary_key=True),
    Column("alias", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("update_time", Float, nullable=False),
)

alias_history = _table(
    "alias_history",
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("alias", String(64), nullable=False),
    Column("from_version", Integer),
    Column("to_version", Integer),
    Column("reason", Text),
    Column("forced", Boolean, nullable=False, default=False),
    Column("actor", String(255)),
    Column("time", Float, nullable=False),
    Index("ix_alias_history_name", "name", "alias"),
)
