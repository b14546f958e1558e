"""Online stores: where served features live, and how to open one from a URI.

==========================  ==============================================
``--online``                store
==========================  ==============================================
``sqlite`` (default)        ``$RAYMLOPS_HOME/online/features.db``
``sqlite:///PATH``          a SQLite file of your choice
``redis://HOST:PORT/DB``    a Redis server
``memory://``               this process only (tests)
==========================  ==============================================

A new backend is a new module with an :class:`OnlineStore` subclass and one line in
:data:`BACKENDS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.features.online.base import OnlineRow, OnlineStore, decode_row, encode_key, encode_row
from raymlops.features.online.memory import MemoryOnlineStore
from raymlops.features.online.sqlite import SqliteOnlineStore

__all__ = ["BACKENDS", "MemoryOnlineStore", "OnlineRow", "OnlineStore", "SqliteOnlineStore", "decode_row", "encode_key", "encode_row", "open_online_store"]


def _redis(uri: str, settings: Settings) -> OnlineStore:
    from raymlops.features.online.redis import RedisOnlineStore  # optional client: only Redis stores need it

    return RedisOnlineStore(uri)


def _sqlite(uri: str, settings: Settings) -> OnlineStore:
    path = uri[len("sqlite:///") :] if uri.startswith("sqlite:///") else str(settings.home / "online" / "features.db")
    return SqliteOnlineStore(os.path.expanduser(path))


_memory: dict[str, MemoryOnlineStore] = {}


def _mem(uri: str, settings: Settings) -> OnlineStore:
    return _memory.setdefault(uri, MemoryOnlineStore(uri))


BACKENDS: dict[str, Callable[[str, Settings], OnlineStore]] = {"sqlite": _sqlite, "redis": _redis, "memory": _mem}
"""URI scheme → opener."""


def open_online_store(uri: str | None = None, settings: Settings | None = None) -> OnlineStore:
    """The online store a URI names (default: SQLite under ``RAYMLOPS_HOME``).

    Raises:
        InvalidInputError: an unknown scheme.
    """
    settings = settings or Settings.resolve()
    uri = uri or "sqlite"
    scheme = uri.split("://", 1)[0] if "://" in uri else uri
    if scheme == "rediss":
        scheme = "redis"
    opener = BACKENDS.get(scheme)
    if opener is None:
        raise InvalidInputError(f"unknown online store {uri!r}: use sqlite, sqlite:///PATH, redis://HOST:PORT/DB or memory://")
    return opener(uri, settings)
