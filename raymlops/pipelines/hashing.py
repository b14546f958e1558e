"""Content sha256 of files and folders, with a stat cache as git keeps one.

Hashing 2 GB of inputs on every run would cost seconds; git avoids re-reading unchanged
files by remembering each file's stat (size, mtime_ns, ctime_ns, inode, device) with its
hash. :class:`StatCache` does the same in a small SQLite file per host (inode numbers
mean nothing on another machine): a file whose stat is unchanged is not read again.

Two details keep it exact:

* ``ctime`` is in the stat: it changes on every write and cannot be set back by
  ``touch -d``/``os.utime``, so a rewrite that restores the old mtime is still seen.
  ``touch`` with the same bytes changes the stat, so the file is re-read, and its hash
  (hence every cache key) is unchanged.
* "Racily clean" entries (git's term): a file changed less than :data:`RACY_NS` before
  it was hashed could change again within the filesystem's timestamp granularity
  without its stat changing, so such an entry is not trusted; the next look re-reads the
  file, and from then on it is trusted.

A folder hashes to the sha256 of its sorted ``relative path NUL file sha256`` lines,
the format :mod:`raymlops.data.artifacts` uses for datasets.

Example:
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> with open(os.path.join(d, "a.txt"), "w") as f:
    ...     _ = f.write("hello")
    >>> cache = StatCache(os.path.join(d, "stat.sqlite"))
    >>> cache.hash_path(os.path.join(d, "a.txt"))[:12]
    '2cf24dba5fb0'
    >>> cache.stats["read_bytes"]
    5
"""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable

__all__ = ["RACY_NS", "StatCache", "dir_digest", "hash_file", "list_files"]

RACY_NS = 1_000_000_000
"""An entry whose file changed less than this before it was hashed is re-checked."""

_CHUNK = 1 << 22


def hash_file(path: str) -> str:
    """The sha256 of a file, read in 4 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def list_files(path: str) -> list[str]:
    """Every file under a folder (relative paths, sorted); ``[""]``-free: a file lists itself as ``.``."""
    if os.path.isfile(path):
        return ["."]
    out = []
    for d, dirs, files in os.walk(path):
        dirs.sort()
        out += [os.path.relpath(os.path.join(d, f), path) for f in files]
    return sorted(out)


def dir_digest(entries: Iterable[tuple[str, str]]) -> str:
    """sha256 of sorted ``(relative path, file sha256)`` pairs."""
    h = hashlib.sha256()
    for rel, sha in sorted(entries):
        h.update(f"{rel}\0{sha}\n".encode())
    return h.hexdigest()


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


class StatCache:
    """``path -> sha256`` remembered with the file's stat (see the module docstring).

    Args:
        db_path: the SQLite file (created); None keeps the cache in memory only.

    Attributes:
        stats: counters ``hits``, ``misses`` and ``read_bytes`` since creation.
    """

    def __init__(self, db_path: str | None):
        self.db_path = db_path
        self._lock = threading.Lock()
        self._mem: dict[str, tuple[tuple[int, ...], int, str]] = {}
        self._db: sqlite3.Connection | None = None
        if db_path:
            os.makedirs(os.path.dirname(os.path.abspath(db_path)), exist_ok=True)
            self._db = sqlite3.connect(db_path, timeout=60, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS stat_cache (path TEXT PRIMARY KEY, size INT, mtime_ns INT, ctime_ns INT,"
                " ino INT, dev INT, hashed_ns INT, sha256 TEXT)"
            )
        self.stats = {"hits": 0, "misses": 0, "read_bytes": 0}

    @classmethod
    def for_home(cls, home: str) -> StatCache:
        """The cache of this host under ``home/pipelines/statcache``."""
        return cls(os.path.join(home, "pipelines", "statcache", f"{socket.gethostname()}.sqlite"))

    def _get(self, path: str) -> tuple[tuple[int, ...], int, str] | None:
        if path in self._mem:
            return self._mem[path]
        if self._db is None:
            return None
        row = self._db.execute(
            "SELECT size, mtime_ns, ctime_ns, ino, dev, hashed_ns, sha256 FROM stat_cache WHERE path = ?", (path,)
        ).fetchone()
        return None if row is None else (tuple(row[:5]), row[5], row[6])

    def remember(self, path: str, sha256: str, st: os.stat_result | None = None, hashed_ns: int | None = None) -> None:
        """Record ``sha256`` for ``path`` as it is now (e.g. right after writing it)."""
        path = os.path.abspath(path)
        st = st or os.stat(path)
        hashed_ns = hashed_ns or time.time_ns()
        entry = (_stat_key(st), hashed_ns, sha256)
        with self._lock:
            self._mem[path] = entry
            if self._db is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO stat_cache VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (path, *entry[0], hashed_ns, sha256)
                )

    def hash_file(self, path: str) -> str:
        """The sha256 of a file, read only if its stat changed (or its entry is racy)."""
        path = os.path.abspath(path)
        st = os.stat(path)
        with self._lock:
            hit = self._get(path)
        if hit is not None and hit[0] == _stat_key(st) and hit[1] - st.st_mtime_ns >= RACY_NS:
            self.stats["hits"] += 1
            return hit[2]
        started = time.time_ns()
        sha = hash_file(path)
        self.stats["misses"] += 1
        self.stats["read_bytes"] += st.st_size
        after = os.stat(path)
        if _stat_key(after) == _stat_key(st):  # not written while we read it
            self.remember(path, sha, after, started)
        return sha

    def hash_path(self, path: str) -> str:
        """The sha256 of a file, or of a folder (see :func:`dir_digest`)."""
        if os.path.isfile(path):
            return self.hash_file(path)
        if not os.path.isdir(path):
            raise FileNotFoundError(path)
        return dir_digest((rel, self.hash_file(os.path.join(path, rel))) for rel in list_files(path))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
