"""The metadata store on SQLAlchemy Core: SQLite (WAL) by default, any SQL database by URL.

Writing an execution together with its new artifacts, events and contexts is one
transaction (:meth:`MetadataStore.put_execution`). On SQLite every write transaction
starts with ``BEGIN IMMEDIATE`` so concurrent writers from several processes queue on
the database lock instead of failing half-way; on server databases a unique-key race
is retried.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, create_engine, event, func, insert, select, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from raymlops.core.errors import InvalidInputError, NotFoundError, StoreUnavailableError, TypeMismatchError
from raymlops.metadata import _schema as S
from raymlops.metadata.lineage import DIRECTIONS, Edge, NodeId, node_key, traverse
from raymlops.metadata.types import (
    Artifact,
    Context,
    Event,
    Execution,
    LineageGraph,
    check_property_value,
    infer_property_type,
)

__all__ = ["MetadataStore", "MetadataAPI"]

T = TypeVar("T")
_CHUNK = 900  # bound on SQL variables per IN (...) list
_KINDS = ("artifact", "execution", "context")

# Statements of the write path, built once (building them per call costs more than running them).
_INS_EXECUTION = insert(S.executions)
_INS_ARTIFACT = insert(S.artifacts)
_INS_ARTIFACTS_RETURNING = insert(S.artifacts).returning(S.artifacts.c.id, sort_by_parameter_order=True)
_INS_EVENT = insert(S.events)
_INS_ASSOCIATION = insert(S.associations)
_INS_ATTRIBUTION = insert(S.attributions)
_SEL_CONTEXT = select(S.contexts.c.id).where(
    S.contexts.c.type_id == bindparam("tid"), S.contexts.c.name == bindparam("cname")
)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, default=_json_default)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def _chunks(items: Sequence[T], n: int = _CHUNK) -> Iterable[Sequence[T]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


class MetadataAPI:
    """Backend-independent helpers, shared by the SQL store and its remote proxy.

    Subclasses implement ``_put_execution`` (one transaction, returns the ids).
    """

    def _put_execution(
        self,
        execution: Execution,
        inputs: list[tuple[str | None, Artifact]],
        outputs: list[tuple[str | None, Artifact]],
        contexts: list[Context],
    ) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def put_execution(
        self,
        execution: Execution,
        *,
        inputs: Sequence[Artifact] | Mapping[str, Artifact] = (),
        outputs: Sequence[Artifact] | Mapping[str, Artifact] = (),
        contexts: Sequence[Context] = (),
    ) -> Execution:
        """Write an execution with its artifacts, events and contexts in one transaction.

        New records (``id is None``) are inserted; an execution with an id is updated
        (state, error, properties) and gets the new events. Ids and times are set on
        the objects passed in.

        Args:
            execution: the execution to insert or update.
            inputs: artifacts read, as a list or as ``{role: artifact}``.
            outputs: artifacts written, as a list or as ``{role: artifact}``.
            contexts: contexts (experiment, pipeline run) the execution and its
                artifacts belong to; found by type and name or created.

        Returns:
            The execution, with ``id`` set.
        """
        ins = _with_roles(inputs)
        outs = _with_roles(outputs)
        ctxs = list(contexts)
        res = self._put_execution(execution, ins, outs, ctxs)
        execution.id = res["execution_id"]
        execution.create_time = execution.create_time or res["time"]
        execution.update_time = res["time"]
        for (_, art), aid in zip(ins + outs, res["artifact_ids"]):
            if art.id is None:
                art.id = aid
                art.create_time = art.update_time = res["time"]
        for ctx, cid in zip(ctxs, res["context_ids"]):
            ctx.id = cid
        return execution

    @contextmanager
    def run_execution(
        self,
        type: str,
        *,
        name: str | None = None,
        inputs: Sequence[Artifact] | Mapping[str, Artifact] = (),
        contexts: Sequence[Context] = (),
        properties: dict[str, Any] | None = None,
        custom_properties: dict[str, Any] | None = None,
    ):
        """Record a step: RUNNING when entered, COMPLETE with its outputs when left.

        A step that raises leaves its execution FAILED (CANCELED for
        ``KeyboardInterrupt``) with the error message, and the error propagates.

        Example:
            >>> store = MetadataStore("sqlite://")
            >>> with store.run_execution("Train", name="demo") as step:
            ...     _ = step.add_output(Artifact(type="Model", uri="file:///m.pkl"))
            >>> store.get_execution(step.execution.id).state
            'COMPLETE'
        """
        ex = Execution(
            type=type,
            name=name,
            state="RUNNING",
            properties=dict(properties or {}),
            custom_properties=dict(custom_properties or {}),
        )
        self.put_execution(ex, inputs=inputs, contexts=contexts)
        rec = _StepRecorder(ex)
        try:
            yield rec
        except BaseException as exc:
            ex.state = "CANCELED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
            ex.error = f"{type_name(exc)}: {exc}"[:10_000]
            try:
                self.put_execution(ex, outputs=rec.outputs)
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
            raise
        ex.state = rec.final_state
        self.put_execution(ex, outputs=rec.outputs)


def type_name(exc: BaseException) -> str:
    return type(exc).__name__


class _StepRecorder:
    """Collects the outputs of a step recorded by :meth:`MetadataAPI.run_execution`."""

    def __init__(self, execution: Execution):
        self.execution = execution
        self.outputs: dict[str, Artifact] = {}
        self.final_state = "COMPLETE"

    def add_output(self, artifact: Artifact, role: str | None = None) -> Artifact:
        self.outputs[role or f"output{len(self.outputs)}"] = artifact
        return artifact

    def set_property(self, key: str, value: Any) -> None:
        self.execution.properties[key] = value

    def mark_cached(self) -> None:
        self.final_state = "CACHED"


def _with_roles(arts: Sequence[Artifact] | Mapping[str, Artifact]) -> list[tuple[str | None, Artifact]]:
    if isinstance(arts, Mapping):
        return [(role, a) for role, a in arts.items()]
    return [(None, a) for a in arts]


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
        self._engine = _make_engine(uri)
        self._types_lock = threading.Lock()
        self._types_by_key: dict[tuple[str, str], tuple[int, dict[str, str]]] = {}
        self._types_by_id: dict[int, tuple[str, str]] = {}
        self._context_ids: dict[tuple[int, str], int] = {}  # committed contexts only
        self._sqlite = self._engine.dialect.name == "sqlite"
        self._insert_sql: dict[tuple[str, tuple[str, ...]], str] = {}
        self._init_schema()

    # ------------------------------------------------------------------ plumbing
    @property
    def engine(self) -> Engine:
        return self._engine

    def __repr__(self) -> str:
        return f"MetadataStore({_safe_url(self.uri)!r})"

    def __reduce__(self):
        # A store travels as its URL; Ray tasks should use raymlops.metadata.connect().
        return (MetadataStore, (self.uri,))

    def close(self) -> None:
        self._engine.dispose()

    def _init_schema(self) -> None:
        try:
            with self._engine.begin() as conn:
                S.metadata_obj.create_all(conn)
                if conn.execute(select(S.schema_version.c.version)).first() is None:
                    conn.execute(insert(S.schema_version).values(version=S.SCHEMA_VERSION))
        except SQLAlchemyError as exc:
            raise StoreUnavailableError(uri=_safe_url(self.uri), reason=_short(exc)) from None
        self._load_types()

    def transact(self, fn: Callable[[Connection], T], *, attempts: int = 8) -> T:
        """Run ``fn(conn)`` in one write transaction, retrying on lock and key races."""
        delay = 0.01
        for attempt in range(attempts):
            try:
                with self._engine.begin() as conn:
                    return fn(conn)
            except (IntegrityError, OperationalError) as exc:
                retryable = isinstance(exc, IntegrityError) or "locked" in str(exc).lower()
                if not retryable or attempt == attempts - 1:
                    if isinstance(exc, OperationalError):
                        raise StoreUnavailableError(uri=_safe_url(self.uri), reason=_short(exc)) from None
                    raise
                self._load_types()
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    @contextmanager
    def read(self):
        """A read-only connection (on SQLite a deferred transaction: no write lock)."""
        with self._engine.connect() as conn:
            conn.execution_options(raymlops_readonly=True)
            yield conn

    # ------------------------------------------------------------------ types
    def _load_types(self) -> None:
        with self.read() as conn:
            rows = conn.execute(select(S.types.c.id, S.types.c.kind, S.types.c.name, S.types.c.properties)).all()
        with self._types_lock:
            for tid, kind, name, props in rows:
                self._types_by_key[(kind, name)] = (tid, json.loads(props))
                self._types_by_id[tid] = (kind, name)

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
            if t not in ("INT", "DOUBLE", "STRING", "BOOL", "STRUCT"):
                raise InvalidInputError(f"property {p!r} of type {name!r} has unknown type {t!r}")
        return self.transact(lambda conn: self._ensure_type(conn, kind, name, props, declared=True)[0])

    def get_type(self, kind: str, name: str) -> dict[str, str] | None:
        """The declared properties of a type, or ``None`` if it does not exist."""
        hit = self._types_by_key.get((kind, name))
        if hit is None:
            self._load_types()
            hit = self._types_by_key.get((kind, name))
        return None if hit is None else dict(hit[1])

    def _ensure_type(
        self, conn: Connection, kind: str, name: str, values: Mapping[str, Any], declared: bool = False
    ) -> tuple[int, dict[str, Any]]:
        """Type id for ``(kind, name)`` and ``values`` checked against its properties.

        Creates the type, or adds undeclared properties to it, inside ``conn``'s
        transaction. With ``declared`` the values are property *types*, not values.
        """
        hit = self._types_by_key.get((kind, name))
        if hit is None:
            row = conn.execute(
                select(S.types.c.id, S.types.c.properties).where(S.types.c.kind == kind, S.types.c.name == name)
            ).first()
            if row is None:
                props = {k: (v if declared else infer_property_type(v)) for k, v in values.items() if v is not None}
                tid = conn.execute(insert(S.types).values(kind=kind, name=name, properties=_dumps(props))).inserted_primary_key[0]
                hit = (tid, props)
            else:
                hit = (row[0], json.loads(row[1]))
            with self._types_lock:
                self._types_by_key[(kind, name)] = hit
                self._types_by_id[hit[0]] = (kind, name)
        tid, props = hit
        missing = [k for k, v in values.items() if k not in props and v is not None]
        if missing:
            row = conn.execute(select(S.types.c.properties).where(S.types.c.id == tid)).first()
            props = json.loads(row[0])
            for k in missing:
                if k not in props:
                    props[k] = values[k] if declared else infer_property_type(values[k])
            conn.execute(update(S.types).where(S.types.c.id == tid).values(properties=_dumps(props)))
            with self._types_lock:
                self._types_by_key[(kind, name)] = (tid, props)
        if declared:
            return tid, {}
        checked = {}
        for k, v in values.items():
            try:
                checked[k] = check_property_value(props[k], v) if k in props else v
            except TypeError:
                raise TypeMismatchError(prop=k, type_name=name, expected=props[k], actual=v) from None
        return tid, checked

    def _type_name(self, type_id: int) -> str:
        hit = self._types_by_id.get(type_id)
        if hit is None:
            self._load_types()
            hit = self._types_by_id[type_id]
        return hit[1]

    def _type_id_or_none(self, kind: str, name: str) -> int | None:
        hit = self._types_by_key.get((kind, name))
        if hit is None:
            self._load_types()
            hit = self._types_by_key.get((kind, name))
        return None if hit is None else hit[0]

    # ------------------------------------------------------------------ writes
    def _insert(self, conn: Connection, table, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
        """Insert ``rows`` (same keys) and return their ids if asked.

        On SQLite the write path runs on the driver's cursor inside the same
        transaction: SQLAlchemy's per-statement overhead would otherwise halve the
        rate at which executions can be recorded.
        """
        if not rows:
            return []
        if self._sqlite:
            keys = tuple(rows[0])
            sql = self._insert_sql.get((table.name, keys))
            if sql is None:
                cols = ", ".join(keys)
                marks = ", ".join(f":{k}" for k in keys)
                sql = self._insert_sql[(table.name, keys)] = f"INSERT INTO {table.name} ({cols}) VALUES ({marks})"
            cur = conn.connection.driver_connection.cursor()
            try:
                if not ids:
                    cur.executemany(sql, rows)
                    return []
                out = []
                for r in rows:
                    cur.execute(sql, r)
                    out.append(cur.lastrowid)
                return out
            finally:
                cur.close()
        stmt = {
            "executions": _INS_EXECUTION,
            "artifacts": _INS_ARTIFACT,
            "events": _INS_EVENT,
            "associations": _INS_ASSOCIATION,
            "attributions": _INS_ATTRIBUTION,
        }.get(table.name) or insert(table)
        if not ids:
            conn.execute(stmt, rows)
            return []
        if len(rows) == 1:
            return [conn.execute(stmt, rows[0]).inserted_primary_key[0]]
        if table is S.artifacts:
            return list(conn.execute(_INS_ARTIFACTS_RETURNING, rows).scalars())
        return [conn.execute(stmt, r).inserted_primary_key[0] for r in rows]

    def _put_execution(self, execution, inputs, outputs, contexts) -> dict[str, Any]:
        return self.transact(lambda conn: self._put_execution_tx(conn, execution, inputs, outputs, contexts))

    def _put_execution_tx(
        self,
        conn: Connection,
        execution: Execution,
        inputs: list[tuple[str | None, Artifact]],
        outputs: list[tuple[str | None, Artifact]],
        contexts: list[Context],
    ) -> dict[str, Any]:
        now = time.time()
        tid, props = self._ensure_type(conn, "execution", execution.type, execution.properties)
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
        art_ids = self._insert_artifacts(conn, [a for _, _, a in pairs], now)
        self._insert(
            conn,
            S.events,
            [
                {"artifact_id": aid, "execution_id": eid, "type": et, "path": role, "time": now}
                for (et, role, _), aid in zip(pairs, art_ids)
            ],
        )
        ctx_ids = [self._ensure_context(conn, c, now) for c in contexts]
        if ctx_ids:
            new_exec = {eid} if execution.id is None else set()
            new_arts = {aid for aid, (_, _, a) in zip(art_ids, pairs) if a.id is None}
            self._link(conn, S.associations, "execution_id", ctx_ids, [eid], new_exec)
            self._link(conn, S.attributions, "artifact_id", ctx_ids, art_ids, new_arts)
        return {"execution_id": eid, "artifact_ids": art_ids, "context_ids": ctx_ids, "time": now}

    def _insert_artifacts(self, conn: Connection, arts: list[Artifact], now: float) -> list[int]:
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
            tid, props = self._ensure_type(conn, "artifact", a.type, a.properties)
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

    def _ensure_context(self, conn: Connection, ctx: Context, now: float) -> int:
        if ctx.id is not None:
            return ctx.id
        tid, props = self._ensure_type(conn, "context", ctx.type, ctx.properties)
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

    def _link(
        self,
        conn: Connection, table, col: str, ctx_ids: list[int], other_ids: list[int], new_ids: set[int] = frozenset()
    ) -> None:
        """Insert the missing (context, other) pairs; ``new_ids`` were just inserted, so have none."""
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
                aid = self._insert_artifacts(conn, [artifact], now)[0]
            else:
                _, props = self._ensure_type(conn, "artifact", artifact.type, artifact.properties)
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
            ctx_ids = [self._ensure_context(conn, c, now) for c in contexts]
            self._link(conn, S.attributions, "artifact_id", ctx_ids, [aid])
            return aid

        artifact.id = self.transact(tx)
        return artifact

    def put_context(self, context: Context) -> Context:
        """Find a context by type and name, or create it."""
        context.id = self.transact(lambda conn: self._ensure_context(conn, context, time.time()))
        return context

    # ------------------------------------------------------------------ reads
    def _artifact(self, r) -> Artifact:
        return Artifact(
            id=r.id,
            type=self._type_name(r.type_id),
            name=r.name,
            uri=r.uri,
            sha256=r.sha256,
            state=r.state,
            properties=json.loads(r.properties),
            custom_properties=json.loads(r.custom_properties),
            create_time=r.create_time,
            update_time=r.update_time,
        )

    def _execution(self, r) -> Execution:
        return Execution(
            id=r.id,
            type=self._type_name(r.type_id),
            name=r.name,
            state=r.state,
            error=r.error,
            properties=json.loads(r.properties),
            custom_properties=json.loads(r.custom_properties),
            create_time=r.create_time,
            update_time=r.update_time,
        )

    def _context(self, r) -> Context:
        return Context(
            id=r.id,
            type=self._type_name(r.type_id),
            name=r.name,
            properties=json.loads(r.properties),
            custom_properties=json.loads(r.custom_properties),
            create_time=r.create_time,
        )

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
            for chunk in _chunks(sorted(set(ids))):
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
        graph = LineageGraph()
        with self.read() as conn:
            dist, used = traverse(start_list, direction, hops, lambda f, d: self._expand(conn, f, d))
            keys = {node: f"{node[0]}:{node[1]}" for node in dist}
            for kind, cols in (
                ("artifact", "id, type_id, name, uri, sha256, state, properties"),
                ("execution", "id, type_id, name, NULL, NULL, state, properties"),
            ):
                wanted = sorted(pk for k, pk in dist if k == kind)
                for chunk in _chunks(wanted):
                    sql = f"SELECT {cols} FROM {kind}s WHERE id IN ({', '.join('?' * len(chunk))})"
                    for pk, tid, name, uri, sha, state, props in self._raw(conn, sql, chunk):
                        node = (kind, pk)
                        graph.nodes[keys[node]] = {
                            "id": keys[node],
                            "kind": kind,
                            "pk": pk,
                            "type": self._type_name(tid),
                            "name": name,
                            "uri": uri,
                            "sha256": sha,
                            "state": state,
                            "properties": json.loads(props) if props != "{}" else {},
                            "distance": dist[node],
                        }
        graph.edges = {(keys[s], keys[t], ty) for s, t, ty in used}
        return graph

    def _raw(self, conn: Connection, sql: str, params: Sequence[Any]) -> list[tuple]:
        """Run hand-written read SQL (``?`` placeholders) on any dialect, skipping the compiler."""
        if self._sqlite:
            return conn.connection.driver_connection.execute(sql, tuple(params)).fetchall()
        if self._engine.dialect.paramstyle != "qmark":
            sql = sql.replace("?", "%s")
        return conn.exec_driver_sql(sql, tuple(params)).all()

    def _expand(self, conn: Connection, frontier: set[NodeId], direction: str) -> list[Edge]:
        out: list[Edge] = []
        arts = sorted(pk for k, pk in frontier if k == "artifact")
        exes = sorted(pk for k, pk in frontier if k == "execution")
        # up: artifact <-OUTPUT- execution, execution <-INPUT- artifact
        # down: artifact -INPUT-> execution, execution -OUTPUT-> artifact
        from_art = "OUTPUT" if direction == "up" else "INPUT"
        from_exe = "INPUT" if direction == "up" else "OUTPUT"
        for ids, col, etype in ((arts, "artifact_id", from_art), (exes, "execution_id", from_exe)):
            for chunk in _chunks(ids):
                sql = (
                    "SELECT artifact_id, execution_id FROM events "
                    f"WHERE {col} IN ({', '.join('?' * len(chunk))}) AND type = ?"
                )
                rows = self._raw(conn, sql, [*chunk, etype])
                if etype == "INPUT":
                    out += [(("artifact", a), ("execution", e), etype) for a, e in rows]
                else:
                    out += [(("execution", e), ("artifact", a), etype) for a, e in rows]
        return out

    # ------------------------------------------------------------------ metrics
    def log_metrics(self, execution_id: int, entries: Sequence[tuple[str, float, int, float]]) -> None:
        """Append ``(key, value, step, time)`` metric points to an execution's history."""
        if not entries:
            return
        rows = [
            {"execution_id": execution_id, "key": k, "value": float(v), "step": int(s), "time": t}
            for k, v, s, t in entries
        ]
        self.transact(lambda conn: conn.execute(insert(S.metrics), rows))

    def get_metric_history(self, execution_id: int, key: str | None = None) -> list[dict[str, Any]]:
        q = select(S.metrics).where(S.metrics.c.execution_id == execution_id)
        if key is not None:
            q = q.where(S.metrics.c.key == key)
        with self.read() as conn:
            rows = conn.execute(q.order_by(S.metrics.c.key, S.metrics.c.step, S.metrics.c.id)).all()
        return [{"key": r.key, "step": r.step, "value": r.value, "time": r.time} for r in rows]

    def latest_metrics(self, execution_ids: Iterable[int]) -> dict[int, dict[str, float]]:
        """The last logged value of every metric of each execution."""
        out: dict[int, dict[str, float]] = {}
        ids = sorted(set(execution_ids))
        with self.read() as conn:
            for chunk in _chunks(ids):
                rows = conn.execute(
                    select(S.metrics.c.execution_id, S.metrics.c.key, S.metrics.c.value)
                    .where(S.metrics.c.execution_id.in_(chunk))
                    .order_by(S.metrics.c.step, S.metrics.c.id)
                ).all()
                for eid, key, value in rows:
                    out.setdefault(eid, {})[key] = value
        return out

    # ------------------------------------------------------------------ model versions
    def create_model_version(
        self,
        *,
        name: str,
        artifact: Artifact,
        signature: dict[str, Any],
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        run_id: int | None = None,
        inputs: Sequence[Artifact] = (),
    ) -> dict[str, Any]:
        """Add the next version of ``name`` and its Model artifact in one transaction.

        The model artifact is recorded as an OUTPUT of the run ``run_id`` when given,
        otherwise of a new ``RegisterModel`` execution whose INPUTs are ``inputs``.

        Returns:
            The stored version record (see :meth:`get_model_version`).
        """

        def tx(conn: Connection) -> dict[str, Any]:
            now = time.time()
            last = conn.execute(
                select(func.max(S.model_versions.c.version)).where(S.model_versions.c.name == name)
            ).scalar()
            version = (last or 0) + 1
            artifact.properties = {**artifact.properties, "model_name": name, "version": version}
            artifact.name = f"{name}@{version}"
            ctx = Context(type="RegisteredModel", name=name)
            if run_id is not None:
                run = conn.execute(select(S.executions.c.id).where(S.executions.c.id == run_id)).first()
                if run is None:
                    raise NotFoundError(what="run", name=run_id, hint="pass the id of a recorded run")
                # keep the run's own state and properties: only add the output event
                res = self._add_output_tx(conn, run_id, artifact, ctx, now)
            else:
                ex = Execution(type="RegisterModel", name=f"register {name}@{version}", state="COMPLETE")
                res = self._put_execution_tx(conn, ex, [(None, a) for a in inputs], [("model", artifact)], [ctx])
                res["artifact_id"] = res["artifact_ids"][-1]
            conn.execute(
                insert(S.model_versions).values(
                    name=name,
                    version=version,
                    artifact_id=res["artifact_id"],
                    sha256=artifact.sha256,
                    signature=_dumps(signature),
                    description=description,
                    metadata=_dumps(metadata or {}),
                    run_id=run_id if run_id is not None else res["execution_id"],
                    create_time=now,
                )
            )
            return {"version": version, "artifact_id": res["artifact_id"]}

        out = self.transact(tx)
        artifact.id = out["artifact_id"]
        return self.get_model_version(name, out["version"])

    def _add_output_tx(self, conn: Connection, execution_id: int, artifact: Artifact, ctx: Context, now: float):
        aid = self._insert_artifacts(conn, [artifact], now)[0]
        conn.execute(
            insert(S.events).values(artifact_id=aid, execution_id=execution_id, type="OUTPUT", path="model", time=now)
        )
        cid = self._ensure_context(conn, ctx, now)
        self._link(conn, S.attributions, "artifact_id", [cid], [aid])
        return {"artifact_id": aid, "execution_id": execution_id}

    @staticmethod
    def _version_dict(r, aliases: list[str]) -> dict[str, Any]:
        return {
            "name": r.name,
            "version": r.version,
            "aliases": aliases,
            "sha256": r.sha256,
            "signature": json.loads(r.signature),
            "description": r.description,
            "metadata": json.loads(r.metadata),
            "artifact_id": r.artifact_id,
            "run_id": r.run_id,
            "created": r.create_time,
        }

    def get_model_version(self, name: str, version: int) -> dict[str, Any] | None:
        """The record of ``name`` version ``version`` with its aliases, or ``None``."""
        mv = S.model_versions
        with self.read() as conn:
            r = conn.execute(select(mv).where(mv.c.name == name, mv.c.version == version)).first()
            if r is None:
                return None
            aliases = self._aliases_of(conn, name)
            latest = conn.execute(select(func.max(mv.c.version)).where(mv.c.name == name)).scalar()
        names = sorted(a for a, v in aliases.items() if v == version)
        if version == latest:
            names.append("latest")
        return self._version_dict(r, names)

    def list_model_versions(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every version (of one name, or of all), newest version last within a name."""
        mv = S.model_versions
        q = select(mv).order_by(mv.c.name, mv.c.version)
        if name is not None:
            q = q.where(mv.c.name == name)
        with self.read() as conn:
            rows = conn.execute(q).all()
            aliases: dict[str, dict[str, int]] = {}
            for r in conn.execute(select(S.model_aliases)).all():
                aliases.setdefault(r.name, {})[r.alias] = r.version
        latest: dict[str, int] = {}
        for r in rows:
            latest[r.name] = max(latest.get(r.name, 0), r.version)
        out = []
        for r in rows:
            names = sorted(a for a, v in aliases.get(r.name, {}).items() if v == r.version)
            if latest[r.name] == r.version:
                names.append("latest")
            out.append(self._version_dict(r, names))
        return out

    @staticmethod
    def _aliases_of(conn: Connection, name: str) -> dict[str, int]:
        rows = conn.execute(select(S.model_aliases.c.alias, S.model_aliases.c.version).where(S.model_aliases.c.name == name))
        return dict(rows.all())

    def get_aliases(self, name: str) -> dict[str, int]:
        with self.read() as conn:
            return self._aliases_of(conn, name)

    def latest_version(self, name: str) -> int | None:
        with self.read() as conn:
            return conn.execute(
                select(func.max(S.model_versions.c.version)).where(S.model_versions.c.name == name)
            ).scalar()

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int | None,
        *,
        reason: str | None = None,
        forced: bool = False,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Point ``alias`` at ``version`` (``None`` removes it) and record the move."""

        def tx(conn: Connection) -> dict[str, Any]:
            now = time.time()
            if version is not None:
                exists = conn.execute(
                    select(S.model_versions.c.id).where(
                        S.model_versions.c.name == name, S.model_versions.c.version == version
                    )
                ).first()
                if exists is None:
                    raise NotFoundError(
                        what="model version", name=f"{name}@{version}", hint="list versions with `raymlops models list`"
                    )
            prev = self._aliases_of(conn, name).get(alias)
            ma = S.model_aliases
            if prev is not None:
                conn.execute(ma.delete().where(ma.c.name == name, ma.c.alias == alias))
            if version is not None:
                conn.execute(insert(ma).values(name=name, alias=alias, version=version, update_time=now))
            move = {
                "name": name,
                "alias": alias,
                "from_version": prev,
                "to_version": version,
                "reason": reason,
                "forced": forced,
                "actor": actor or _actor(),
                "time": now,
            }
            conn.execute(insert(S.alias_history).values(**move))
            return move

        return self.transact(tx)

    def alias_history(self, name: str, alias: str | None = None) -> list[dict[str, Any]]:
        ah = S.alias_history
        q = select(ah).where(ah.c.name == name).order_by(ah.c.id)
        if alias is not None:
            q = q.where(ah.c.alias == alias)
        with self.read() as conn:
            return [
                {
                    "name": r.name,
                    "alias": r.alias,
                    "from_version": r.from_version,
                    "to_version": r.to_version,
                    "reason": r.reason,
                    "forced": bool(r.forced),
                    "actor": r.actor,
                    "time": r.time,
                }
                for r in conn.execute(q).all()
            ]


def _actor() -> str:
    try:
        import getpass

        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database in some containers
        user = "unknown"
    return f"{user}@{os.uname().nodename}"


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _safe_url(uri: str) -> str:
    try:
        return make_url(uri).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL at all: show it as given
        return uri


def _make_engine(uri: str) -> Engine:
    try:
        url = make_url(uri)
    except ArgumentError:
        raise StoreUnavailableError(uri=uri, reason="not a SQLAlchemy URL (e.g. sqlite:///path/metadata.db)") from None
    try:
        if url.get_backend_name() == "sqlite":
            path = url.database
            memory = not path or path == ":memory:"
            if not memory:
                parent = os.path.dirname(os.path.abspath(path))
                if not os.path.isdir(parent):
                    raise StoreUnavailableError(uri=uri, reason=f"folder {parent} does not exist")
            engine = create_engine(
                url,
                connect_args={"timeout": 60, "check_same_thread": False},
                **({"poolclass": StaticPool} if memory else {}),
            )
            _sqlite_setup(engine, wal=not memory)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        with engine.connect():
            pass
    except StoreUnavailableError:
        raise
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreUnavailableError(uri=_safe_url(uri), reason=f"no driver for this URL ({_short(exc)})") from None
    except (SQLAlchemyError, OSError) as exc:
        raise StoreUnavailableError(uri=_safe_url(uri), reason=_short(exc)) from None
    return engine


def _sqlite_setup(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised through every test
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised through every test
        readonly = conn.get_execution_options().get("raymlops_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")
