"""Reading online features: the TTL is enforced on read.

For each entity row and each feature asked: ``PRESENT`` with the stored value;
``NOT_FOUND`` (null) when the key has no row; ``OUTSIDE_MAX_AGE`` (null) when the
view has a TTL and the row's event time is older than ``now - ttl`` (Feast returns such
values as PRESENT: feast-dev/feast#6821). The boundary matches the offline join: a
value exactly ``ttl`` old still counts, so online values at ``T`` equal the
point-in-time join at ``T``.

Example:
    >>> from raymlops.features.online import MemoryOnlineStore, OnlineRow
    >>> s = MemoryOnlineStore("memory://doc")
    >>> _ = s.write("v", {"[1]": OnlineRow(event_us=0, created_us=0, pos=0, values={"x": 1.5})})
    >>> r = read_features(s, {"v": ["x"]}, {"v": ["driver_id"]}, {"v": 10}, [{"driver_id": 1}, {"driver_id": 2}], now_us=10_000_000)
    >>> r.to_dict(0), r.to_dict(1)["status"]
    ({'features': {'v__x': 1.5}, 'status': {'v__x': 'PRESENT'}}, {'v__x': 'NOT_FOUND'})
    >>> read_features(s, {"v": ["x"]}, {"v": ["driver_id"]}, {"v": 10}, [{"driver_id": 1}], now_us=10_000_001).to_dict(0)
    {'features': {'v__x': None}, 'status': {'v__x': 'OUTSIDE_MAX_AGE'}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from raymlops.core.errors import InvalidInputError
from raymlops.features.definitions import column_name
from raymlops.features.online.base import OnlineStore, encode_key
from raymlops.features.times import US
from raymlops.features.times import now_us as clock_us

__all__ = ["NOT_FOUND", "OUTSIDE_MAX_AGE", "OnlineReader", "OnlineResult", "PRESENT", "coerce_key", "read_features"]

PRESENT, NOT_FOUND, OUTSIDE_MAX_AGE = "PRESENT", "NOT_FOUND", "OUTSIDE_MAX_AGE"


@dataclass
class OnlineResult:
    """Columns of values and statuses, one entry per entity row, named ``view__feature``."""

    values: dict[str, list[Any]] = field(default_factory=dict)
    status: dict[str, list[str]] = field(default_factory=dict)
    event_us: dict[str, list[int | None]] = field(default_factory=dict)

    def to_dict(self, row: int = 0) -> dict[str, Any]:
        """One entity row as ``{"features": {...}, "status": {...}}`` (the CLI's answer)."""
        return {"features": {c: v[row] for c, v in self.values.items()}, "status": {c: s[row] for c, s in self.status.items()}}

    def rows(self) -> list[dict[str, Any]]:
        n = len(next(iter(self.values.values()), []))
        return [self.to_dict(i) for i in range(n)]


def coerce_key(value: Any, kind: str | None, name: str) -> Any:
    """A join key value in its stored type (``int`` or ``string``); ``"5"`` → 5 for an int key.

    Raises:
        InvalidInputError: the value cannot be that type.
    """
    if value is None:
        raise InvalidInputError(f"join key {name!r} is null; pass a value", details=[{"field": name, "problem": "null entity key"}])
    if kind == "int":
        bad = InvalidInputError(f"join key {name!r} must be an integer, got {value!r}",
                                details=[{"field": name, "problem": f"expected an integer entity key, got {value!r}"[:200]}])
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise bad
        try:
            return int(value)
        except (TypeError, ValueError, OverflowError):
            raise bad from None
    if kind == "string":
        return str(value)
    return value.item() if hasattr(value, "item") else value


def read_features(
    store: OnlineStore,
    selection: Mapping[str, Sequence[str]],
    join_keys: Mapping[str, Sequence[str]],
    ttls: Mapping[str, int | None],
    entity_rows: Sequence[Mapping[str, Any]],
    *,
    now_us: int,
    key_types: Mapping[str, Mapping[str, str]] | None = None,
) -> OnlineResult:
    """The features of ``selection`` for each entity row, with statuses, TTL enforced at ``now_us``.

    Args:
        store: the online store.
        selection: ``{view: [feature, ...]}``.
        join_keys: ``{view: [key column, ...]}``.
        ttls: ``{view: seconds or None}``.
        entity_rows: one mapping of join key values per row.
        now_us: the instant the TTL is measured from (µs UTC).
        key_types: ``{view: {key: "int" | "string"}}`` as materialized (values are coerced).

    Raises:
        InvalidInputError: an entity row lacks a join key, or a key has the wrong type.
    """
    requests: dict[str, list[str]] = {}
    encoded: dict[tuple, list[str]] = {}
    for view in selection:
        names = tuple(join_keys[view])
        types = (key_types or {}).get(view, {})
        cache_key = (names, tuple(types.get(k) for k in names))
        keys = encoded.get(cache_key)
        if keys is None:  # views with the same join keys share the encoded keys
            keys = encoded[cache_key] = [_encode(row, names, types, view) for row in entity_rows]
        requests[view] = keys
    found = store.read_many(requests)
    out = OnlineResult()
    for view, features in selection.items():
        ttl = ttls.get(view)
        oldest = now_us - ttl * US if ttl is not None else None
        rows = found[view]
        vals = [r.values if r is not None and (oldest is None or r.event_us >= oldest) else None for r in rows]
        row_status = [NOT_FOUND if r is None else (PRESENT if v is not None else OUTSIDE_MAX_AGE) for r, v in zip(rows, vals)]
        events = [r.event_us if r is not None else None for r in rows]
        for f in features:
            col = column_name(view, f)
            out.values[col] = [v.get(f) if v is not None else None for v in vals]
            out.status[col] = [st if v is None or f in v else NOT_FOUND for st, v in zip(row_status, vals)]
            out.event_us[col] = events
    return out


def _encode(row: Mapping[str, Any], names: tuple[str, ...], types: Mapping[str, str], view: str) -> str:
    try:
        values = [row[k] for k in names]
    except KeyError:
        missing = [k for k in names if k not in row]
        raise InvalidInputError(f"entity row {dict(row)} lacks join key {', '.join(map(repr, missing))} of feature view {view!r}") from None
    if len(values) == 1 and type(values[0]) is int and types.get(names[0], "int") == "int":
        return f"[{values[0]}]"  # the common case, without JSON
    return encode_key([coerce_key(v, types.get(k), k) for k, v in zip(names, values)])


class OnlineReader:
    """A reader of a fixed selection of online features: ``reader(entity_rows, now_us=None) -> OnlineResult``.

    It keeps what each read needs (join keys, TTLs, the key types the store was
    materialized with) and re-reads the store's per-view state on :meth:`refresh`, which
    also gives each view's freshness (now − its newest materialized event).

    Args:
        store: the online store.
        selection: ``{view: [feature, ...]}``.
        join_keys: ``{view: [key column, ...]}``.
        ttls: ``{view: seconds or None}``.

    Example:
        >>> from raymlops.features.online import MemoryOnlineStore, OnlineRow
        >>> s = MemoryOnlineStore("memory://reader-doc")
        >>> _ = s.write("v", {"[1]": OnlineRow(event_us=0, created_us=0, pos=0, values={"x": 1.5})})
        >>> s.set_state("v", {"newest_event_us": 0, "key_types": {"driver_id": "int"}})
        >>> r = OnlineReader(s, {"v": ["x"]}, {"v": ["driver_id"]}, {"v": None})
        >>> r([{"driver_id": "1"}], now_us=0).to_dict(0)
        {'features': {'v__x': 1.5}, 'status': {'v__x': 'PRESENT'}}
        >>> r.freshness(now_us=30_000_000)
        {'v': 30.0}
    """

    def __init__(self, store: OnlineStore, selection: Mapping[str, Sequence[str]], join_keys: Mapping[str, Sequence[str]],
                 ttls: Mapping[str, int | None]):
        self.store = store
        self.selection = {v: list(f) for v, f in selection.items()}
        self.join_keys = {v: list(join_keys[v]) for v in self.selection}
        self.ttls = {v: ttls.get(v) for v in self.selection}
        self.key_types: dict[str, dict[str, str]] = {}
        self.newest_event_us: dict[str, int | None] = {}
        self.refresh()

    def __repr__(self) -> str:
        return f"OnlineReader({self.store.uri!r}, views={list(self.selection)!r})"

    def refresh(self) -> None:
        """Re-read each view's state: the key types and newest event of its last materialization."""
        for view in self.selection:
            state = self.store.get_state(view) or {}
            self.key_types[view] = dict(state.get("key_types") or {})
            self.newest_event_us[view] = state.get("newest_event_us")

    def freshness(self, now_us: int | None = None) -> dict[str, float | None]:
        """Seconds from each view's newest materialized event to ``now_us`` (None: never materialized)."""
        now = now_us if now_us is not None else clock_us()
        return {v: None if t is None else (now - t) / US for v, t in self.newest_event_us.items()}

    def __call__(self, entity_rows: Sequence[Mapping[str, Any]], *, now_us: int | None = None) -> OnlineResult:
        """The selection's features for each entity row, TTL enforced at ``now_us`` (default now)."""
        return read_features(self.store, self.selection, self.join_keys, self.ttls, entity_rows,
                             now_us=now_us if now_us is not None else clock_us(), key_types=self.key_types)

