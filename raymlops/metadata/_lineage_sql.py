"""Lineage queries on the events table: the SQL side of :func:`raymlops.metadata.lineage.traverse`.

Hand-written read SQL (``?`` placeholders) runs on the driver's cursor on SQLite and on
``exec_driver_sql`` elsewhere, skipping SQLAlchemy's compiler: a 20-hop walk issues a
few dozen small queries, and the compiler would cost more than running them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from raymlops.metadata.lineage import Edge, NodeId, traverse, traverse_both
from raymlops.metadata.types import LineageGraph

__all__ = ["CHUNK", "chunks", "lineage_graph"]

T = TypeVar("T")
CHUNK = 900  # bound on SQL variables per IN (...) list


def chunks(items: Sequence[T], n: int = CHUNK) -> Iterable[Sequence[T]]:
    """``items`` in slices of at most ``n`` (the bound on variables in one SQL statement)."""
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _raw(conn: Connection, sqlite: bool, sql: str, params: Sequence[Any]) -> list[tuple]:
    if sqlite:
        return conn.connection.driver_connection.execute(sql, tuple(params)).fetchall()
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    return conn.exec_driver_sql(sql, tuple(params)).all()


def _expand(conn: Connection, sqlite: bool, frontier: set[NodeId], direction: str) -> list[Edge]:
    """The edges leaving ``frontier`` in one direction."""
    out: list[Edge] = []
    arts = sorted(pk for k, pk in frontier if k == "artifact")
    exes = sorted(pk for k, pk in frontier if k == "execution")
    # up: artifact <-OUTPUT- execution, execution <-INPUT- artifact
    # down: artifact -INPUT-> execution, execution -OUTPUT-> artifact
    from_art = "OUTPUT" if direction == "up" else "INPUT"
    from_exe = "INPUT" if direction == "up" else "OUTPUT"
    for ids, col, etype in ((arts, "artifact_id", from_art), (exes, "execution_id", from_exe)):
        for chunk in chunks(ids):
            sql = (
                "SELECT artifact_id, execution_id FROM events "
                f"WHERE {col} IN ({', '.join('?' * len(chunk))}) AND type = ?"
            )
            rows = _raw(conn, sqlite, sql, [*chunk, etype])
            if etype == "INPUT":
                out += [(("artifact", a), ("execution", e), etype) for a, e in rows]
            else:
                out += [(("execution", e), ("artifact", a), etype) for a, e in rows]
    return out


# (frontier kind, events column, event type, direction) of the four ways an edge leaves a frontier
_WAYS = (
    ("artifact", "artifact_id", "OUTPUT", "up"),  # artifact <-OUTPUT- execution
    ("execution", "execution_id", "INPUT", "up"),  # execution <-INPUT- artifact
    ("artifact", "artifact_id", "INPUT", "down"),  # artifact -INPUT-> execution
    ("execution", "execution_id", "OUTPUT", "down"),  # execution -OUTPUT-> artifact
)


def _expand_both(conn: Connection, sqlite: bool, up: set[NodeId], down: set[NodeId]) -> tuple[list[Edge], list[Edge]]:
    """The edges leaving the up frontier upward and the down frontier downward, in one statement.

    One ``UNION ALL`` of up to four index lookups per hop (each arm on its covering index);
    a frontier larger than the variable bound falls back to one statement per chunk.
    """
    frontiers = {"up": up, "down": down}
    arms: list[tuple[int, str, list[int]]] = []
    for i, (kind, col, etype, direction) in enumerate(_WAYS):
        ids = [pk for k, pk in frontiers[direction] if k == kind]
        arms += [(i, f"SELECT {i}, artifact_id, execution_id FROM events WHERE {col} IN ({', '.join('?' * len(c))}) AND type = '{etype}'", list(c)) for c in chunks(ids, CHUNK // 4)]
    out: dict[str, list[Edge]] = {"up": [], "down": []}
    for start in range(0, len(arms), 4):
        batch = arms[start : start + 4]
        sql = " UNION ALL ".join(a[1] for a in batch)
        for way, a, e in _raw(conn, sqlite, sql, [x for arm in batch for x in arm[2]]):
            etype, direction = _WAYS[way][2], _WAYS[way][3]
            edge = (("artifact", a), ("execution", e), etype) if etype == "INPUT" else (("execution", e), ("artifact", a), etype)
            out[direction].append(edge)
    return out["up"], out["down"]


def lineage_graph(
    conn: Connection,
    sqlite: bool,
    starts: list[NodeId],
    direction: str,
    hops: int,
    type_name: Callable[[int], str],
) -> LineageGraph:
    """Walk the lineage from ``starts`` and read every node reached."""
    graph = LineageGraph()
    if direction == "both":
        dist, used = traverse_both(starts, hops, lambda up, down: _expand_both(conn, sqlite, up, down))
    else:
        dist, used = traverse(starts, direction, hops, lambda f, d: _expand(conn, sqlite, f, d))
    keys = {node: f"{node[0]}:{node[1]}" for node in dist}
    type_names: dict[int, str] = {}
    for kind, cols in (
        ("artifact", "id, type_id, name, uri, sha256, state, properties"),
        ("execution", "id, type_id, name, NULL, NULL, state, properties"),
    ):
        wanted = sorted(pk for k, pk in dist if k == kind)
        for chunk in chunks(wanted):
            sql = f"SELECT {cols} FROM {kind}s WHERE id IN ({', '.join('?' * len(chunk))})"
            for pk, tid, name, uri, sha, state, props in _raw(conn, sqlite, sql, chunk):
                node = (kind, pk)
                graph.nodes[keys[node]] = {
                    "id": keys[node],
                    "kind": kind,
                    "pk": pk,
                    "type": type_names.get(tid) or type_names.setdefault(tid, type_name(tid)),
                    "name": name,
                    "uri": uri,
                    "sha256": sha,
                    "state": state,
                    "properties": json.loads(props) if props != "{}" else {},
                    "distance": dist[node],
                }
    key = keys.__getitem__
    graph.edges = {(key(s), key(t), ty) for s, t, ty in used}
    return graph
