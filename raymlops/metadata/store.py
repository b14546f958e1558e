"""The metadata store on SQLAlchemy Core: SQLite (WAL) by default, any SQL database by URL.

Writing an execution together with its new artifacts, events and contexts is one
transaction (:meth:`MetadataStore.put_execution`). Packages above keep their own tables
in the same database through :meth:`MetadataStore.extension`, and may join the store's
writes in one transaction (:meth:`MetadataStore.transact` with
:meth:`MetadataStore.put_execution_in`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from raymlops.core.errors import InvalidInputError, NotFoundError, StoreUnavailableError, TypeMismatchError
from raymlops.metadata import tables as S
from raymlops.metadata._engine import Database, FastInsert, safe_url, short_reason
from raymlops.metadata._lineage_sql import chunks, lineage_graph
from raymlops.metadata._types import TypeCache, dumps, record_of
from raymlops.metadata.api import MetadataAPI
from raymlops.metadata.lineage import DIRECTIONS, NodeId
from raymlops.metadata.types import (
    Artifact,
    Context,
    Event,
    Execution,
    LineageGraph,
    PROPERTY_TYPES,
)

__all__ = ["MetadataStore"]

_SEL_CONTEXT = select(S.contexts.c.id).where(
    S.contexts.c.type_id == bindparam("tid"), S.contexts.c.name == bindparam("cname")
)

T = TypeVar("T")
E = TypeVar("E")
_KINDS = ("artifact", "execution", "context")

def _dumps(obj: Any) -> str:
    return dumps(obj)


class MetadataStore(MetadataAPI):
    """Artifacts, executions, contexts, events and lineage in a SQL database.

    Args:
        uri: a SQLAlchemy URL; ``sqlite:///path`` (the default store under
            ``RAYMLOPS_HOME``), ``sqlite://`` for an in-memory store, or a server URL.

    Raises:
        StoreUnavailableError: the database cannot be reached or opened.
    """

    def __init__(self, uri: str):
        self.uri = uri
        self._db = Database(uri, on_retry=self._load_types)
        self._engine = self._db.engine
        self._extensions: dict[type, Any] = {}
        self._tables_made: set[str] = set()
        self._types = TypeCache()
        self._context_ids: dict[tuple[int, str], int] = {}  # committed contexts only
        self._sqlite = self._db.is_sqlite
        self._inserter = FastInsert(self._sqlite)
        self._init_schema()

    # ------------------------------------------------------------------ plumbing
    @property
    def engine(self) -> Engine:
        return self._engine

    def __repr__(self) -> str:
        return f"MetadataStore({safe_url(self.uri)!r})"

    def __reduce__(self):
        # A store travels as its URL; Ray tasks should use raymlops.metadata.connect().
        return (MetadataStore, (self.uri,))

    def close(self) -> None:
        self._engine.dispose()

    def _init_schema(self) -> None:
        try:
            with self._engine.begin() as conn:
                S.metadata_obj.create_all(conn, tables=list(S.CORE_TABLES))
                if conn.execute(select(S.schema_version.c.version)).first() is None:
                    conn.execute(insert(S.schema_version).values(version=S.SCHEMA_VERSION))
        except SQLAlchemyError as exc:
            raise StoreUnavailableError(uri=safe_url(self.uri), reason=short_reason(exc)) from None
        self._load_types()

    def create_tables(self, tables: Sequence[Table]) -> None:
        """Create an extension's tables (on :data:`~raymlops.metadata.tables.metadata_obj`) if missing."""
        missing = [t for t in tables if t.name not in self._tables_made]
        if not missing:
            return
        try:
            with self._engine.begin() as conn:
                S.metadata_obj.create_all(conn, tables=missing)
        except SQLAlchemyError as exc:
            raise StoreUnavailableError(uri=safe_url(self.uri), reason=short_reason(exc)) from None
        self._tables_made.update(t.name for t in missing)

    def extension(self, cls: type[E]) -> E:
        """The one ``cls(self)`` of this store (its tables are created the first time)."""
        ext = self._extensions.get(cls)
        if ext is None:
            ext = self._extensions[cls] = cls(self)  # type: ignore[call-arg]
        return ext

    def transact(self, fn: Callable[[Connection], T], *, attempts: int = 8) -> T:
        """Run ``fn(conn)`` in one write transaction, retrying on lock and key races."""
        return self._db.transact(fn, attempts=attempts)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection (on SQLite a deferred transaction: no write lock)."""
        with self._db.read() as conn:
            yield conn

    # ------------------------------------------------------------------ types
    def _load_types(self) -> None:
        with self.read() as conn:
            self._types.load(conn)

    def put_type(self, kind: str, name: str, properties: Mapping[str, str] | None = None) -> int:
        """Declare a type (or add properties to it) and return its id.

        Args:
            kind: ``artifact``, ``execution`` or ``context``.
            name: the type name, e.g. ``Dataset``.
            properties: ``{property: INT|DOUBLE|STRING|BOOL|STRUCT}``.
        """
        if kind not in _KINDS:
            raise InvalidInputError(f"type kind {kind!r} is not one of {', '.join(_KINDS)}")
        props = dict(properties or {})
        for p, t in props.items():
            if t not in PROPERTY_TYPES:
                raise InvalidInputError(f"property {p!r} of type {name!r} has unknown type {t!r}")
        return self.transact(lambda conn: self._types.ensure(conn, kind, name, props, declared=True)[0])

    def get_type(self, kind: str, name: str) -> dict[str, str] | None:
        """The declared properties of a type, or ``None`` if it does not exist."""
        hit = self._types.by_key(kind, name, reload=self._load_types)
        return None if hit is None else dict(hit[1])

    def _type_name(self, type_id: int) -> str:
        return self._types.name_of(type_id, reload=self._load_types)

    def _type_id_or_none(self, kind: str, name: str) -> int | None:
        hit = self._types.by_key(kind, name, reload=self._load_types)
        return None if hit is None else hit[0]

    # ------------------------------------------------------------------ writes
    def _insert(self, conn: Connection, table: Table, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
        return self._inserter.insert(conn, table, rows, ids=ids)

    def _put_execution(self, execution, inputs, outputs, contexts) -> dict[str, Any]:
        return self.transact(lambda conn: self.put_execution_in(conn, execution, inputs, outputs, contexts))

    def put_execution_in(
        self,
        conn: Connection,
        execution: Execution,
        inputs: list[tuple[str | None, Artifact]],
        outputs: list[tuple[str | None, Artifact]],
        contexts: list[Context],
    ) -> dict[str, Any]:
        """:meth:`put_execution` inside the transaction ``conn`` (for extensions' atomic writes).

        ``inputs`` and ``outputs`` are ``(role, artifact)`` pairs. Returns the ids as
        ``{"execution_id", "artifact_ids", "context_ids", "time"}``; the objects are not
        updated (the caller does it after the transaction commits).
        """
        now = time.time()
        tid, props = self._types.ensure(conn, "execution", execution.type, execution.properties)
        row = {
            "state": execution.state,
            "error": execution.error,
            "properties": _dumps(props),
            "custom_properties": _dumps(execution.custom_properties),
            "update_time": now,
        }
        if execution.id is None:
            eid = self._insert(
                conn, S.executions, [{"type_id": tid, "name": execution.name, "create_time": now, **row}], ids=True
            )[0]
        else:
            res = conn.execute(update(S.executions).where(S.executions.c.id == execution.id).values(**row))
            if res.rowcount == 0:
                raise NotFoundError(what="execution", name=execution.id, hint="put it first without an id")
            eid = execution.id

        pairs = [("INPUT", r, a) for r, a in inputs] + [("OUTPUT", r, a) for r, a in outputs]
        art_ids = self.insert_artifacts_in(conn, [a for _, _, a in pairs], now)
        self._insert(
            conn,
            S.events,
            [
                {"artifact_id": aid, "execution_id": eid, "type": et, "path": role, "time": now}
                for (et, role, _), aid in zip(pairs, art_ids)
            ],
        )
        ctx_ids = [self.ensure_context_in(conn, c, now) for c in contexts]
        if ctx_ids:
            new_exec = {eid} if execution.id is None else set()
            new_arts = {aid for aid, (_, _, a) in zip(art_ids, pairs) if a.id is None}
            self.link_in(conn, S.associations, "execution_id", ctx_ids, [eid], new_exec)
            self.link_in(conn, S.attributions, "artifact_id", ctx_ids, art_ids, new_arts)
        return {"execution_id": eid, "artifact_ids": art_ids, "context_ids": ctx_ids, "time": now}

    def insert_artifacts_in(self, conn: Connection, arts: list[Artifact], now: float) -> list[int]:
        """Insert new artifacts inside ``conn``'s transaction; returns every artifact's id."""
        ids: list[int | None] = [a.id for a in arts]
        new = [i for i, a in enumerate(arts) if a.id is None]
        # an artifact object listed twice (input and output) is inserted once
        first_of: dict[int, int] = {}
        rows, targets = [], []
        for i in new:
            if id(arts[i]) in first_of:
                continue
            first_of[id(arts[i])] = i
            a = arts[i]
            tid, props = self._types.ensure(conn, "artifact", a.type, a.properties)
            rows.append(
                {
                    "type_id": tid,
                    "name": a.name,
                    "uri": a.uri,
                    "sha256": a.sha256,
                    "state": a.state,
                    "properties": _dumps(props),
                    "custom_properties": _dumps(a.custom_properties),
                    "create_time": now,
                    "update_time": now,
                }
            )
            targets.append(i)
        for i, aid in zip(targets, self._insert(conn, S.artifacts, rows, ids=True)):
            ids[i] = aid
        for i in new:
            ids[i] = ids[first_of[id(arts[i])]]
        return ids  # type: ignore[return-value]

    def ensure_context_in(self, conn: Connection, ctx: Context, now: float) -> int:
        """The id of a context (found by type and name, or created) inside ``conn``'s transaction."""
        if ctx.id is not None:
            return ctx.id
        tid, props = self._types.ensure(conn, "context", ctx.type, ctx.properties)
        cached = self._context_ids.get((tid, ctx.name))
        if cached is not None:
            return cached
        row = conn.execute(_SEL_CONTEXT, {"tid": tid, "cname": ctx.name}).first()
        if row is not None:
            self._context_ids[(tid, ctx.name)] = row[0]
            return row[0]
        return conn.execute(
            insert(S.contexts).values(
                type_id=tid,
                name=ctx.name,
                properties=_dumps(props),
                custom_properties=_dumps(ctx.custom_properties),
                create_time=now,
            )
        ).inserted_primary_key[0]

    def link_in(
        self,
        conn: Connection, table, col: str, ctx_ids: list[int], other_ids: list[int], new_ids: set[int] = frozenset()
    ) -> None:
        """Insert the missing (context, other) pairs in ``table``; ``new_ids`` were just inserted, so have none."""
        wanted = {(c, o) for c in ctx_ids for o in other_ids}
        if not wanted:
            return
        old = set(other_ids) - set(new_ids)
        have: set[tuple[int, int]] = set()
        if old:
            have = set(
                conn.execute(
                    select(table.c.context_id, table.c[col]).where(
                        table.c.context_id.in_(set(ctx_ids)), table.c[col].in_(old)
                    )
                ).all()
            )
        self._insert(conn, table, [{"context_id": c, col: o} for c, o in sorted(wanted - have)])

    def put_artifact(self, artifact: Artifact, *, contexts: Sequence[Context] = ()) -> Artifact:
        """Insert an artifact (or update the state, uri, hash and properties of a stored one)."""

        def tx(conn: Connection) -> int:
            now = time.time()
            if artifact.id is None:
                aid = self.insert_artifacts_in(conn, [artifact], now)[0]
            else:
                _, props = self._types.ensure(conn, "artifact", artifact.type, artifact.properties)
                conn.execute(
                    update(S.artifacts)
                    .where(S.artifacts.c.id == artifact.id)
                    .values(
                        uri=artifact.uri,
                        sha256=artifact.sha256,
                        state=artifact.state,
                        properties=_dumps(props),
                        custom_properties=_dumps(artifact.custom_properties),
                        update_time=now,
                    )
                )
                aid = artifact.id
            ctx_ids = [self.ensure_context_in(conn, c, now) for c in contexts]
            self.link_in(conn, S.attributions, "artifact_id", ctx_ids, [aid])
            return aid

        artifact.id = self.transact(tx)
        return artifact

    def put_context(self, context: Context) -> Context:
        """Find a context by type and name, or create it."""
        context.id = self.transact(lambda conn: self.ensure_context_in(conn, context, time.time()))
        return context

    # ------------------------------------------------------------------ reads
    def _artifact(self, r: Any) -> Artifact:
        return record_of(Artifact, r, self._type_name(r.type_id))

    def _execution(self, r: Any) -> Execution:
        return record_of(Execution, r, self._type_name(r.type_id))

    def _context(self, r: Any) -> Context:
        return record_of(Context, r, self._type_name(r.type_id))

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
        """Artifacts matching every filter given, oldest first."""
        q = select(S.artifacts)
        if type is not None:
            tid = self._type_id_or_none("artifact", type)
            if tid is None:
                return []
            q = q.where(S.artifacts.c.type_id == tid)
        if uri is not None:
            q = q.where(S.artifacts.c.uri == uri)
        if sha256 is not None:
            q = q.where(S.artifacts.c.sha256 == sha256)
        if context_id is not None:
            q = q.where(
                S.artifacts.c.id.in_(
                    select(S.attributions.c.artifact_id).where(S.attributions.c.context_id == context_id)
                )
            )
        return [self._artifact(r) for r in self._select_ids(q, S.artifacts.c.id, ids, limit)]

    def get_executions(
        self,
        *,
        type: str | None = None,
        ids: Iterable[int] | None = None,
        state: str | None = None,
        context_id: int | None = None,
        limit: int | None = None,
    ) -> list[Execution]:
        """Executions matching every filter given, oldest first."""
        q = select(S.executions)
        if type is not None:
            tid = self._type_id_or_none("execution", type)
            if tid is None:
                return []
            q = q.where(S.executions.c.type_id == tid)
        if state is not None:
            q = q.where(S.executions.c.state == state)
        if context_id is not None:
            q = q.where(
                S.executions.c.id.in_(
                    select(S.associations.c.execution_id).where(S.associations.c.context_id == context_id)
                )
            )
        return [self._execution(r) for r in self._select_ids(q, S.executions.c.id, ids, limit)]

    def _select_ids(self, q, id_col, ids: Iterable[int] | None, limit: int | None) -> list[Any]:
        q = q.order_by(id_col)
        with self.read() as conn:
            if ids is None:
                return conn.execute(q.limit(limit) if limit else q).all()
            out = []
            for chunk in chunks(sorted(set(ids))):
                out.extend(conn.execute(q.where(id_col.in_(chunk))).all())
            return out[:limit] if limit else out

    def get_artifact(self, artifact_id: int) -> Artifact:
        found = self.get_artifacts(ids=[artifact_id])
        if not found:
            raise NotFoundError(what="artifact", name=artifact_id, hint="list artifacts with the Python API")
        return found[0]

    def get_execution(self, execution_id: int) -> Execution:
        found = self.get_executions(ids=[execution_id])
        if not found:
            raise NotFoundError(what="execution", name=execution_id, hint="list runs with `raymlops runs list`")
        return found[0]

    def count_executions(self, *, type: str | None = None) -> int:
        q = select(func.count()).select_from(S.executions)
        if type is not None:
            tid = self._type_id_or_none("execution", type)
            if tid is None:
                return 0
            q = q.where(S.executions.c.type_id == tid)
        with self.read() as conn:
            return conn.execute(q).scalar_one()

    def get_contexts(self, *, type: str | None = None, name: str | None = None) -> list[Context]:
        q = select(S.contexts).order_by(S.contexts.c.id)
        if type is not None:
            tid = self._type_id_or_none("context", type)
            if tid is None:
                return []
            q = q.where(S.contexts.c.type_id == tid)
        if name is not None:
            q = q.where(S.contexts.c.name == name)
        with self.read() as conn:
            return [self._context(r) for r in conn.execute(q).all()]

    def get_context(self, type: str, name: str) -> Context | None:
        found = self.get_contexts(type=type, name=name)
        return found[0] if found else None

    def get_contexts_of(self, *, execution_id: int | None = None, artifact_id: int | None = None) -> list[Context]:
        """The contexts an execution is associated with, or an artifact attributed to."""
        if (execution_id is None) == (artifact_id is None):
            raise InvalidInputError("pass exactly one of execution_id or artifact_id")
        link, col, key = (
            (S.associations, "execution_id", execution_id)
            if execution_id is not None
            else (S.attributions, "artifact_id", artifact_id)
        )
        q = (
            select(S.contexts)
            .where(S.contexts.c.id.in_(select(link.c.context_id).where(link.c[col] == key)))
            .order_by(S.contexts.c.id)
        )
        with self.read() as conn:
            return [self._context(r) for r in conn.execute(q).all()]

    def get_events(self, *, execution_id: int | None = None, artifact_id: int | None = None) -> list[Event]:
        q = select(S.events).order_by(S.events.c.id)
        if execution_id is not None:
            q = q.where(S.events.c.execution_id == execution_id)
        if artifact_id is not None:
            q = q.where(S.events.c.artifact_id == artifact_id)
        with self.read() as conn:
            return [
                Event(artifact_id=r.artifact_id, execution_id=r.execution_id, type=r.type, path=r.path, time=r.time)
                for r in conn.execute(q).all()
            ]

    # ------------------------------------------------------------------ lineage
    def lineage(self, starts: NodeId | Sequence[NodeId], *, direction: str = "both", hops: int = 20) -> LineageGraph:
        """The lineage graph around ``starts`` within ``hops`` edges.

        Args:
            starts: ``("artifact", id)`` or ``("execution", id)``, or a list of them.
            direction: ``up`` (what it came from), ``down`` (what came from it) or
                ``both``.
            hops: the maximum number of edges walked from a start node.
        """
        if direction not in DIRECTIONS:
            raise InvalidInputError(f"invalid lineage direction {direction!r}: use up, down or both")
        start_list = [starts] if isinstance(starts, tuple) else list(starts)
        with self.read() as conn:
            return lineage_graph(conn, self._sqlite, start_list, direction, hops, self._type_name)
