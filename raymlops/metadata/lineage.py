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

__all__ = ["DIRECTIONS", "Edge", "NodeId", "node_key", "parse_node_id", "traverse", "traverse_both"]

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
        return traverse_both(starts, hops, lambda up, down: (expand(up, "up") if up else [], expand(down, "down") if down else []))

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


def traverse_both(
    starts: Iterable[NodeId],
    hops: int,
    expand_both: Callable[[set[NodeId], set[NodeId]], tuple[Iterable[Edge], Iterable[Edge]]],
) -> tuple[dict[NodeId, int], set[Edge]]:
    """``both`` in one walk: the up and the down frontiers advance together, hop by hop.

    The result equals the union of the ``up`` and ``down`` walks (a node's distance is the
    smaller of the two), but each hop asks ``expand_both(up_frontier, down_frontier)`` once,
    so a store answers both directions of a hop with one query.

    Example:
        >>> edges = {(("artifact", 1), ("execution", 1), "INPUT"), (("execution", 1), ("artifact", 2), "OUTPUT")}
        >>> def both(up, down):
        ...     return [e for e in edges if e[1] in up], [e for e in edges if e[0] in down]
        >>> dist, _ = traverse_both([("execution", 1)], 1, both)
        >>> sorted(dist.items())
        [(('artifact', 1), 1), (('artifact', 2), 1), (('execution', 1), 0)]
    """
    if hops < 0:
        raise InvalidInputError(f"invalid hop limit {hops}: use 0 or more")
    start = list(starts)
    seen = {"up": {node: 0 for node in start}, "down": {node: 0 for node in start}}
    frontier = {"up": set(start), "down": set(start)}
    used: set[Edge] = set()
    for h in range(1, hops + 1):
        if not frontier["up"] and not frontier["down"]:
            break
        found = dict(zip(("up", "down"), expand_both(frontier["up"], frontier["down"])))
        for direction, edges in found.items():
            nxt: set[NodeId] = set()
            for edge in edges:
                used.add(edge)
                other = edge[0] if direction == "up" else edge[1]
                if other not in seen[direction]:
                    seen[direction][other] = h
                    nxt.add(other)
            frontier[direction] = nxt
    dist = dict(seen["up"])
    for node, d in seen["down"].items():
        dist[node] = min(d, dist.get(node, d))
    return dist, used
