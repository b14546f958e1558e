"""Opening the database: SQLAlchemy engines, SQLite pragmas, and transactions that retry.

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` so concurrent writers
from several processes queue on the database lock instead of failing half-way; on server
databases a unique-key race is retried.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Table, create_engine, event, insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from raymlops.core.errors import StoreUnavailableError
from raymlops.metadata import tables as S

__all__ = ["Database", "FastInsert", "make_engine", "safe_url", "short_reason"]

T = TypeVar("T")


class Database:
    """An engine with a retrying write transaction and a lock-free read connection.

    Args:
        uri: a SQLAlchemy URL.
        on_retry: called before a retried write (e.g. to reload cached type ids).
    """

    def __init__(self, uri: str, *, on_retry: Callable[[], None] | None = None):
        self.uri = uri
        self.engine = make_engine(uri)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._on_retry = on_retry

    def transact(self, fn: Callable[[Connection], T], *, attempts: int = 8) -> T:
        """Run ``fn(conn)`` in one write transaction, retrying on lock and key races."""
        delay = 0.01
        for attempt in range(attempts):
            try:
                with self.engine.begin() as conn:
                    return fn(conn)
            except (IntegrityError, OperationalError) as exc:
                retryable = isinstance(exc, IntegrityError) or "locked" in str(exc).lower()
                if not retryable or attempt == attempts - 1:
                    if isinstance(exc, OperationalError):
                        raise StoreUnavailableError(uri=safe_url(self.uri), reason=short_reason(exc)) from None
                    raise
                if self._on_retry is not None:
                    self._on_retry()
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection (on SQLite a deferred transaction: no write lock)."""
        with self.engine.connect() as conn:
            conn.execution_options(raymlops_readonly=True)
            yield conn


# Statements of the write path, built once (building them per call costs more than running them).
_INS_EXECUTION = insert(S.executions)
_INS_ARTIFACT = insert(S.artifacts)
_INS_ARTIFACTS_RETURNING = insert(S.artifacts).returning(S.artifacts.c.id, sort_by_parameter_order=True)
_INS_EVENT = insert(S.events)
_INS_ASSOCIATION = insert(S.associations)
_INS_ATTRIBUTION = insert(S.attributions)


class FastInsert:
    """Inserts rows of the store's tables, on SQLite through the driver's cursor."""

    def __init__(self, sqlite: bool):
        self.sqlite = sqlite
        self._sql: dict[tuple[str, tuple[str, ...]], str] = {}

    def insert(self, conn: Connection, table: Table, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
        """Insert ``rows`` (same keys) and return their ids if asked.

        On SQLite the write path runs on the driver's cursor inside the same
        transaction: SQLAlchemy's per-statement overhead would otherwise halve the
        rate at which executions can be recorded.
        """
        if not rows:
            return []
        if self.sqlite:
            keys = tuple(rows[0])
            sql = self._sql.get((table.name, keys))
            if sql is None:
                cols = ", ".join(keys)
                marks = ", ".join(f":{k}" for k in keys)
                sql = self._sql[(table.name, keys)] = f"INSERT INTO {table.name} ({cols}) VALUES ({marks})"
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


def short_reason(exc: BaseException) -> str:
    """The first line of a database error, for a one-line message."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def safe_url(uri: str) -> str:
    """The URL with its password hidden."""
    try:
        return make_url(uri).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL at all: show it as given
        return uri


def make_engine(uri: str) -> Engine:
    """An engine for ``uri``; SQLite gets WAL, a busy timeout and foreign keys.

    Raises:
        StoreUnavailableError: the database cannot be reached or opened.
    """
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
        raise StoreUnavailableError(uri=safe_url(uri), reason=f"no driver for this URL ({short_reason(exc)})") from None
    except (SQLAlchemyError, OSError) as exc:
        raise StoreUnavailableError(uri=safe_url(uri), reason=short_reason(exc)) from None
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
