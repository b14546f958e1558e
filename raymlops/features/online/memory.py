"""An in-memory online store (tests, notebooks): a dict per view.

Example:
    >>> from raymlops.features.online.base import OnlineRow
    >>> s = MemoryOnlineStore()
    >>> s.write("v", {"[1]": OnlineRow(event_us=9, created_us=0, pos=0, values={"x": 1})})
    1
    >>> s.write("v", {"[1]": OnlineRow(event_us=5, created_us=0, pos=0, values={"x": 0})})  # older: kept out
    0
    >>> s.read("v", ["[1]", "[2]"])[0].values, s.count("v")
    ({'x': 1}, 1)
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from raymlops.features.online.base import OnlineRow, OnlineStore, decode_row, encode_row

__all__ = ["MemoryOnlineStore"]


class MemoryOnlineStore(OnlineStore):
    """Rows kept as encoded text in dicts, so it behaves exactly like the other backends."""

    def __init__(self, uri: str = "memory://"):
        self.uri = uri
        self._rows: dict[str, dict[str, str]] = {}
        self._state: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def write(self, view: str, rows: Mapping[str, OnlineRow]) -> int:
        n = 0
        with self._lock:
            table = self._rows.setdefault(view, {})
            for key, row in rows.items():
                text = encode_row(row)
                cur = table.get(key)
                if cur is None or text[:60] >= cur[:60]:
                    table[key] = text
                    n += 1
        return n

    def read(self, view: str, keys: Sequence[str]) -> list[OnlineRow | None]:
        table = self._rows.get(view, {})
        return [decode_row(table[k]) if k in table else None for k in keys]

    def count(self, view: str) -> int:
        return len(self._rows.get(view, {}))

    def get_state(self, view: str) -> dict[str, Any] | None:
        s = self._state.get(view)
        return dict(s) if s is not None else None

    def set_state(self, view: str, state: dict[str, Any]) -> None:
        self._state[view] = dict(state)
