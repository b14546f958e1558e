"""The cache of artifact, execution and context types and their typed properties.

Types are few and never deleted, so every process keeps them in memory: a lookup costs
no query, and a type created by another process is found by reloading once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from raymlops.core.errors import TypeMismatchError
from raymlops.metadata import tables as S
from raymlops.metadata.types import Artifact, Context, Execution, check_property_value, infer_property_type

__all__ = ["TypeCache", "dumps", "record_of"]


def dumps(obj: Any) -> str:
    """Compact, sorted JSON for stored properties (numpy values become Python ones)."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, default=_json_default)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


_FIELDS = {
    Artifact: ("id", "name", "uri", "sha256", "state", "create_time", "update_time"),
    Execution: ("id", "name", "state", "error", "create_time", "update_time"),
    Context: ("id", "name", "create_time"),
}


def record_of(cls: type[Artifact] | type[Execution] | type[Context], row: Any, type_name: str) -> Any:
    """The record a row of the artifacts, executions or contexts table stands for."""
    return cls(
        type=type_name,
        properties=json.loads(row.properties),
        custom_properties=json.loads(row.custom_properties),
        **{f: getattr(row, f) for f in _FIELDS[cls]},
    )


class TypeCache:
    """Type ids and declared properties, by ``(kind, name)`` and by id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str], tuple[int, dict[str, str]]] = {}
        self._by_id: dict[int, tuple[str, str]] = {}

    def load(self, conn: Connection) -> None:
        rows = conn.execute(select(S.types.c.id, S.types.c.kind, S.types.c.name, S.types.c.properties)).all()
        with self._lock:
            for tid, kind, name, props in rows:
                self._by_key[(kind, name)] = (tid, json.loads(props))
                self._by_id[tid] = (kind, name)

    def by_key(self, kind: str, name: str, *, reload: Callable[[], None]) -> tuple[int, dict[str, str]] | None:
        hit = self._by_key.get((kind, name))
        if hit is None:
            reload()
            hit = self._by_key.get((kind, name))
        return hit

    def name_of(self, type_id: int, *, reload: Callable[[], None]) -> str:
        hit = self._by_id.get(type_id)
        if hit is None:
            reload()
            hit = self._by_id[type_id]
        return hit[1]

    def ensure(
        self, conn: Connection, kind: str, name: str, values: Mapping[str, Any], declared: bool = False
    ) -> tuple[int, dict[str, Any]]:
        """Type id for ``(kind, name)`` and ``values`` checked against its properties.

        Creates the type, or adds undeclared properties to it, inside ``conn``'s
        transaction. With ``declared`` the values are property *types*, not values.
        """
        hit = self._by_key.get((kind, name))
        if hit is None:
            row = conn.execute(
                select(S.types.c.id, S.types.c.properties).where(S.types.c.kind == kind, S.types.c.name == name)
            ).first()
            if row is None:
                props = {k: (v if declared else infer_property_type(v)) for k, v in values.items() if v is not None}
                tid = conn.execute(insert(S.types).values(kind=kind, name=name, properties=dumps(props))).inserted_primary_key[0]
                hit = (tid, props)
            else:
                hit = (row[0], json.loads(row[1]))
            with self._lock:
                self._by_key[(kind, name)] = hit
                self._by_id[hit[0]] = (kind, name)
        tid, props = hit
        missing = [k for k, v in values.items() if k not in props and v is not None]
        if missing:
            row = conn.execute(select(S.types.c.properties).where(S.types.c.id == tid)).first()
            props = json.loads(row[0])
            for k in missing:
                if k not in props:
                    props[k] = values[k] if declared else infer_property_type(values[k])
            conn.execute(update(S.types).where(S.types.c.id == tid).values(properties=dumps(props)))
            with self._lock:
                self._by_key[(kind, name)] = (tid, props)
        if declared:
            return tid, {}
        checked = {}
        for k, v in values.items():
            try:
                checked[k] = check_property_value(props[k], v) if k in props else v
            except TypeError:
                raise TypeMismatchError(prop=k, type_name=name, expected=props[k], actual=v) from None
        return tid, checked
