"""Lineage traversal, independent of storage.

A lineage graph is bipartite: artifacts and executions, linked by events. Walking
*up* (upstream) from an artifact reaches the execution that produced it, then that
execution's inputs, and so on; walking *down* reaches the executions that consumed it,
then their outputs. One hop is one edge. ``both`` is the union of up and down; it does
not wander sideways (a sibling output of the producing execution is not upstream of
an artifact, so it is not in ``both`` either).

The store supplies ``expand(frontier, direction) -> [(source, target, event_type)]``,
the edges adjacent to a frontier in one direction; :func:`traverse` does the rest.

Example:
    >>> edges = {(("artifact", 1), ("execution", 1), "INPUT"), (("execution", 1), ("artifact", 2), "OUTPUT")}
    >>> def expand(frontier, direction):
    ...     side = 1 if direction == "up" else 0
    ...     return [e for e in edges if e[side] in frontier]
    >>> dist, used = traverse([("artifact", 2)], "up", 1, expand)
    >>> sorted(dist.items())
    [(('artifact', 2), 0), (('execution', 1), 1)]
    >>> dist, used = traverse([("artifact", 2)], "up", 5, expand)
    >>> len(dist), len(used)
    (3, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from raymlops.core.errors import InvalidInputError

__all__ = ["NodeId", "Edge", "traverse", "DIRECTIONS", "parse_node_id", "node_key"]

NodeId = tuple[str, int]
Edge = tuple[NodeId, NodeId, str]
DIRECTIONS = ("up", "down", "both")


def node_key(node: NodeId) -> str:
    """``("artifact", 3)`` → ``"artifact:3"``."""
    return f"{node[0]}:{node[1]}"


def parse_node_id(text: str) -> NodeId:
    """``"artifact:3"`` → ``("artifact", 3)``; also ``execution:N`` and ``run:N``."""
    kind, _, num = text.partition(":")
    kind = {"run": "execution"}.get(kind, kind)
    if kind not in ("artifact", "execution") or not num.isdigit():
        raise InvalidInputError(f"invalid node id {text!r}: use artifact:ID, execution:ID or run:ID")
    return (kind, int(num))


def traverse(
    starts: Iterable[NodeId],
    direction: str,
    hops: int,
    expand: Callable[[set[NodeId], str], Iterable[Edge]],
) -> tuple[dict[NodeId, int], set[Edge]]:
    """Breadth-first walk from ``starts`` for at most ``hops`` edges.

    Args:
        starts: nodes at distance 0.
        direction: ``up``, ``down`` or ``both``.
        hops: the maximum number of edges from a start node (0 returns the starts).
        expand: the edges adjacent to a set of nodes in one direction.

    Returns:
        The distance of every node reached, and the edges walked (every edge leaving a
        node at distance < ``hops`` in the walking direction).
    """
    if direction not in DIRECTIONS:
        raise InvalidInputError(f"invalid lineage direction {direction!r}: use up, down or both")
    if hops < 0:
        raise InvalidInputError(f"invalid hop limit {hops}: use 0 or more")
    if direction == "both":
        d_up, e_up = traverse(starts, "up", hops, expand)
        d_down, e_down = traverse(starts, "down", hops, expand)
        for node, d in d_down.items():
            d_up[node] = min(d, d_up.get(node, d))
        return d_up, e_up | e_down

    dist: dict[NodeId, int] = {node: 0 for node in starts}
    used: set[Edge] = set()
    frontier = set(dist)
    for h in range(1, hops + 1):
        if not frontier:
            break
        nxt: set[NodeId] = set()
        for edge in expand(frontier, direction):
            used.add(edge)
            other = edge[0] if direction == "up" else edge[1]
            if other not in dist:
                dist[other] = h
                nxt.add(other)
        frontier = nxt
    return dist, used
