"""The registry's tables, in the metadata store's database.

``model_versions`` holds each version with its Model artifact, signature and metadata;
``model_aliases`` where each alias points; ``alias_history`` every move of an alias;
``model_verdicts`` the evaluation verdicts recorded for a version (the latest counts).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint

from raymlops.metadata.tables import table

__all__ = ["REGISTRY_TABLES", "alias_history", "model_aliases", "model_verdicts", "model_versions"]

model_versions = table(
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

model_aliases = table(
    "model_aliases",
    Column("name", String(64), primary_key=True),
    Column("alias", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("update_time", Float, nullable=False),
)

alias_history = table(
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

model_verdicts = table(
    "model_verdicts",
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("verdict", String(32), nullable=False),
    Column("failed", Text, nullable=False, default="[]"),
    Column("report", Text),
    Column("artifact_id", Integer, ForeignKey("artifacts.id")),
    Column("time", Float, nullable=False),
    Index("ix_model_verdicts_version", "name", "version"),
)

REGISTRY_TABLES = (model_versions, model_aliases, alias_history, model_verdicts)
