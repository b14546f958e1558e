"""The default online store: one embedded SQLite file (WAL), one row per (view, key).

The conditional write is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` statement,
so SQLite itself keeps the newest version. Reads are one indexed ``IN`` query per view.
The stdlib ``sqlite3`` driver is used directly: on the serving path SQLAlchemy's
per-statement overhead would be most of the latency.

Example:
    >>> import os, tempfile
    >>> from raymlops.features.online.base import OnlineRow
    >>> s = SqliteOnlineStore(os.path.join(tempfile.mkdtemp(), "online.db"))
    >>> s.write("v", {"[7]": OnlineRow(event_us=3, created_us=0, pos=0, values={"x": 2.5})})
    1
    >>> s.read("v", ["[7]", "[8]"])
    [OnlineRow(event_us=3, created_us=0, pos=0, values={'x': 2.5}), None]
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from raymlops.features.online.base import OnlineRow, OnlineStore, decode_rows, encode_row

__all__ = ["SqliteOnlineStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS online_rows (view TEXT NOT NULL, key TEXT NOT NULL, row TEXT NOT NULL,
    PRIMARY KEY (view, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS online_state (view TEXT PRIMARY KEY, state TEXT NOT NULL);
"""
_UPSERT = (
    "INSERT INTO online_rows (view, key, row) VALUES (?, ?, ?) ON CONFLICT (view, key) DO UPDATE "
    "SET row = excluded.row WHERE substr(excluded.row, 1, 60) >= substr(online_rows.row, 1, 60)"
)
_CHUNK = 500


class SqliteOnlineStore(OnlineStore):
    """Online rows in the SQLite file at ``path`` (created with its folder)."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        self.uri = f"sqlite:///{self.path}"
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        # Reads go through memory-mapped pages and a 256 MiB page cache, not a read() per page:
        # a batch of 100 entities x 5 views is about 2,000 B-tree page visits.
        self._conn.execute(f"PRAGMA mmap_size={8 << 30}")
        self._conn.execute("PRAGMA cache_size=-262144")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def write(self, view: str, rows: Mapping[str, OnlineRow]) -> int:
        with self._lock:
            before = self._conn.total_changes
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(_UPSERT, ((view, k, encode_row(r)) for k, r in rows.items()))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return self._conn.total_changes - before

    def read(self, view: str, keys: Sequence[str]) -> list[OnlineRow | None]:
        found: dict[str, str] = {}
        with self._lock:
            for i in range(0, len(keys), _CHUNK):
                chunk = list(keys[i : i + _CHUNK])
                q = f"SELECT key, row FROM online_rows WHERE view = ? AND key IN ({','.join('?' * len(chunk))})"
                found.update(self._conn.execute(q, [view, *chunk]).fetchall())
        return decode_rows([found.get(k) for k in keys])

    def read_many(self, requests: Mapping[str, Sequence[str]]) -> dict[str, list[OnlineRow | None]]:
        """Every view's rows in one indexed query (views x keys probes) and one JSON parse."""
        keys = list(dict.fromkeys(k for ks in requests.values() for k in ks))
        if not requests or len(keys) + len(requests) > _CHUNK:
            return {view: self.read(view, ks) for view, ks in requests.items()}
        q = (f"SELECT view, key, row FROM online_rows WHERE view IN ({','.join('?' * len(requests))}) "
             f"AND key IN ({','.join('?' * len(keys))})")
        with self._lock:
            found = {(v, k): r for v, k, r in self._conn.execute(q, [*requests, *keys]).fetchall()}
        rows = iter(decode_rows([found.get((view, k)) for view, ks in requests.items() for k in ks]))
        return {view: [next(rows) for _ in ks] for view, ks in requests.items()}

    def count(self, view: str) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM online_rows WHERE view = ?", (view,)).fetchone()[0]

    def get_state(self, view: str) -> dict[str, Any] | None:
        with self._lock:
            r = self._conn.execute("SELECT state FROM online_state WHERE view = ?", (view,)).fetchone()
        return json.loads(r[0]) if r else None

    def set_state(self, view: str, state: dict[str, Any]) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO online_state (view, state) VALUES (?, ?) ON CONFLICT (view) DO UPDATE SET state = excluded.state",
                (view, json.dumps(state, sort_keys=True)),
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
