"""Leases: "I am running this" rows in the metadata store's database.

Two identical runs at once must not both execute a step: the first takes the lease on
the step's cache key, the second waits and then reuses the first's outputs. A lease is a
row of the ``pipeline_leases`` table in the metadata store's own database (SQLite or a
server), taken in one write transaction (on SQLite ``BEGIN IMMEDIATE``), so drivers in
different processes, and on different machines sharing a server database, exclude each
other. A file lock (``flock``) was the alternative: it is released by the kernel when its
holder dies, but it means nothing across machines and is unreliable on NFS. A lease
instead names its holder (host, pid, process start time) and an expiry the holder keeps
pushing forward; it is free once it expires, or at once when its holder is a dead
process on this host (a SIGKILLed driver does not make others wait out the expiry).

Example:
    >>> from raymlops.metadata import MetadataStore
    >>> leases = Leases(MetadataStore("sqlite://"))
    >>> me, other = Holder.current("run-a"), Holder.current("run-b")
    >>> leases.acquire("step:abc", me, ttl_s=30), leases.acquire("step:abc", other, ttl_s=30)
    (True, False)
    >>> leases.release("step:abc", me); leases.acquire("step:abc", other, ttl_s=30)
    True
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, delete, insert, or_, select, update

from raymlops.metadata import MetadataStore

__all__ = ["Holder", "Leases"]

_meta = MetaData()
_leases = Table(
    "pipeline_leases",
    _meta,
    Column("key", String(200), primary_key=True),
    Column("token", String(200), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", String(40), nullable=False),
    Column("acquired", Float, nullable=False),
    Column("expires", Float, nullable=False),
)


def _proc_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), "" elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


@dataclasses.dataclass(frozen=True)
class Holder:
    """Who holds a lease: a token (the run id) in a process on a host."""

    token: str
    host: str
    pid: int
    started: str

    @classmethod
    def current(cls, token: str) -> Holder:
        return cls(token=token, host=socket.gethostname(), pid=os.getpid(), started=_proc_start(os.getpid()))


def holder_alive(host: str, pid: int, started: str, *, expires: float, now: float) -> bool:
    """Whether a lease's holder may still be working on it."""
    if expires < now:
        return False
    if host == socket.gethostname():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not started or _proc_start(pid) == started  # pid reused by another process
    return True


class Leases:
    """The lease table of a metadata store (created on first use)."""

    def __init__(self, store: MetadataStore):
        self.store = store
        _meta.create_all(store.engine)

    def acquire(self, key: str, holder: Holder, *, ttl_s: float = 30.0, now: float | None = None) -> bool:
        """Take (or renew) the lease ``key``; False while another live holder has it."""
        now = time.time() if now is None else now

        def tx(conn) -> bool:
            row = conn.execute(select(_leases).where(_leases.c.key == key)).first()
            values = {
                "token": holder.token, "host": holder.host, "pid": holder.pid, "started": holder.started,
                "acquired": now, "expires": now + ttl_s,
            }  # fmt: skip
            if row is None:
                conn.execute(insert(_leases).values(key=key, **values))
                return True
            mine = row.token == holder.token and row.host == holder.host and row.pid == holder.pid
            if mine:
                conn.execute(update(_leases).where(_leases.c.key == key).values(expires=now + ttl_s))
                return True
            if holder_alive(row.host, row.pid, row.started, expires=row.expires, now=now):
                return False
            conn.execute(update(_leases).where(_leases.c.key == key).values(**values))
            return True

        return self.store.transact(tx)

    def renew(self, run_token: str, *, ttl_s: float = 30.0) -> None:
        """Push the expiry of every lease of a run (its own and its steps') forward."""
        now = time.time()
        self.store.transact(
            lambda conn: conn.execute(update(_leases).where(_of_run(run_token)).values(expires=now + ttl_s))
        )

    def release(self, key: str, holder: Holder) -> None:
        self.store.transact(lambda conn: conn.execute(delete(_leases).where(_leases.c.key == key, _leases.c.token == holder.token)))

    def get(self, key: str) -> dict[str, Any] | None:
        with self.store.read() as conn:
            row = conn.execute(select(_leases).where(_leases.c.key == key)).first()
        return None if row is None else dict(row._mapping)

    def is_live(self, key: str, *, now: float | None = None) -> bool:
        row = self.get(key)
        now = time.time() if now is None else now
        return row is not None and holder_alive(row["host"], row["pid"], row["started"], expires=row["expires"], now=now)

    def live(self, prefix: str = "", *, now: float | None = None) -> list[dict[str, Any]]:
        """Every lease whose key starts with ``prefix`` and whose holder is alive."""
        now = time.time() if now is None else now
        with self.store.read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(_leases).where(_leases.c.key.like(f"{prefix}%"))).all()]
        return [r for r in rows if holder_alive(r["host"], r["pid"], r["started"], expires=r["expires"], now=now)]

    def drop_run(self, run_token: str) -> None:
        """Remove every lease of a (dead) run: its own and its steps' (tokens ``RUN/STEP``)."""
        self.store.transact(lambda conn: conn.execute(delete(_leases).where(_of_run(run_token))))


def _of_run(run_token: str):
    return or_(_leases.c.token == run_token, _leases.c.token.like(f"{run_token}/%"))
