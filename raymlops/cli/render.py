"""Text for people: plain tables and lineage trees (the CLI's and the demo's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["lineage_tree", "table"]


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], empty: str = "(none)", undefined: Sequence[str] = ()) -> str:
    """A plain text table of ``rows`` with the given columns.

    A missing value prints as ``-``; in the ``undefined`` columns (metrics), a ``None`` or
    ``nan`` is a value that does not exist on those rows and prints as ``n/a``.
    """
    if not rows:
        return empty
    cells = [["n/a" if c in undefined and _undefined(r.get(c)) else _cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def _undefined(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return "n/a" if v != v else f"{v:.4g}"
    if isinstance(v, dict):
        return ",".join(f"{k}={_cell(x)}" for k, x in v.items()) or "-"
    if isinstance(v, (list, tuple)):
        return ",".join(_cell(x) for x in v) or "-"
    return str(v)


def lineage_tree(graph: dict, root: str) -> str:
    """An indented tree of the graph, walking edges from ``root`` both ways."""
    nodes = {n["id"]: n for n in graph["nodes"]}
    parents: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}
    for e in graph["edges"]:
        parents.setdefault(e["target"], []).append(e["source"])
        children.setdefault(e["source"], []).append(e["target"])

    def label(nid: str) -> str:
        n = nodes[nid]
        extra = n.get("uri") or n.get("name") or ""
        sha = f" sha256:{n['sha256'][:12]}" if n.get("sha256") else ""
        return f"{n['type']} [{nid}] {extra}{sha}".rstrip()

    lines = [label(root)]

    def walk(nid: str, edges: dict[str, list[str]], arrow: str, depth: int, expanded: set[str]) -> None:
        for other in sorted(edges.get(nid, [])):
            if other in expanded:
                lines.append("  " * depth + f"{arrow} {label(other)} (see above)")
                continue
            lines.append("  " * depth + f"{arrow} {label(other)}")
            expanded.add(other)
            walk(other, edges, arrow, depth + 1, expanded)

    if parents.get(root):
        lines.append("upstream:")
        walk(root, parents, "<-", 1, {root})
    if children.get(root):
        lines.append("downstream:")
        walk(root, children, "->", 1, {root})
    return "\n".join(lines)
