"""The Redis online store, for real deployments: one Redis string per (view, key).

Writes run a Lua script per batch that compares the 60-digit version prefixes inside
Redis, so concurrent writers and late rows cannot overwrite a newer value; it also
counts new keys per view. Reads are one ``MGET`` for all views of a request (one
round trip). Keys are ``{prefix}:{view}:{entity key}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

import redis

from raymlops.core.errors import StoreUnavailableError
from raymlops.features.online.base import OnlineRow, OnlineStore, decode_rows, encode_row

__all__ = ["RedisOnlineStore"]

_WRITE = """
local n = 0
local created = 0
for i, k in ipairs(KEYS) do
  local new = ARGV[i + 1]
  local cur = redis.call('GET', k)
  if (not cur) or string.sub(new, 1, 60) >= string.sub(cur, 1, 60) then
    redis.call('SET', k, new)
    n = n + 1
    if not cur then created = created + 1 end
  end
end
if created > 0 then redis.call('HINCRBY', ARGV[1], 'count', created) end
return n
"""
_BATCH = 1000


class RedisOnlineStore(OnlineStore):
    """Online rows in the Redis database at ``uri`` (``redis://HOST:PORT/DB``)."""

    def __init__(self, uri: str, *, prefix: str = "rmf"):
        self.uri = uri
        self.prefix = prefix
        parsed = urlparse(uri)
        self._client = redis.Redis.from_url(uri, socket_connect_timeout=5)
        try:
            self._client.ping()
        except redis.RedisError as exc:
            raise StoreUnavailableError(
                f"cannot reach the Redis online store at {parsed.hostname}:{parsed.port or 6379}: {exc}; "
                "start redis-server or pass another --online store"
            ) from None
        self._write = self._client.register_script(_WRITE)

    def _key(self, view: str, key: str) -> str:
        return f"{self.prefix}:{view}:{key}"

    def write(self, view: str, rows: Mapping[str, OnlineRow]) -> int:
        items = list(rows.items())
        n = 0
        meta = f"{self.prefix}:__meta__:{view}"
        for i in range(0, len(items), _BATCH):
            chunk = items[i : i + _BATCH]
            n += int(self._write(keys=[self._key(view, k) for k, _ in chunk], args=[meta] + [encode_row(r) for _, r in chunk]))
        return n

    def read(self, view: str, keys: Sequence[str]) -> list[OnlineRow | None]:
        return self.read_many({view: keys})[view]

    def read_many(self, requests: Mapping[str, Sequence[str]]) -> dict[str, list[OnlineRow | None]]:
        flat = [self._key(view, k) for view, keys in requests.items() for k in keys]
        values = self._client.mget(flat) if flat else []
        out, i = {}, 0
        for view, keys in requests.items():
            out[view] = decode_rows(values[i : i + len(keys)])
            i += len(keys)
        return out

    def count(self, view: str) -> int:
        return int(self._client.hget(f"{self.prefix}:__meta__:{view}", "count") or 0)

    def get_state(self, view: str) -> dict[str, Any] | None:
        raw = self._client.hget(f"{self.prefix}:__meta__:{view}", "state")
        return json.loads(raw) if raw else None

    def set_state(self, view: str, state: dict[str, Any]) -> None:
        self._client.hset(f"{self.prefix}:__meta__:{view}", "state", json.dumps(state, sort_keys=True))

    def close(self) -> None:
        self._client.close()
