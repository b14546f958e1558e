"""`raymlops lineage REF [--direction up|down|both] [--hops N]`."""

from __future__ import annotations

import click

from raymlops.cli._common import CliContext, command_options, emit, pass_cli


def resolve_node(cctx: CliContext, ref: str) -> tuple[str, int]:
    """A model ref (``NAME@VERSION``/``NAME@ALIAS``) or ``artifact:ID``/``execution:ID``/``run:ID``."""
    from raymlops.metadata import parse_node_id

    if ref.split(":", 1)[0] in ("artifact", "execution", "run"):
        node = parse_node_id(ref)
        getter = cctx.store().get_artifact if node[0] == "artifact" else cctx.store().get_execution
        getter(node[1])
        return node
    return ("artifact", cctx.registry().get(ref)["artifact_id"])


def render(graph: dict, root: str) -> str:
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


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("ref")
    @click.option("--direction", type=click.Choice(["up", "down", "both"]), default="both", show_default=True)
    @click.option("--hops", type=click.IntRange(min=0), default=20, show_default=True)
    @command_options
    @pass_cli
    def lineage(cctx: CliContext, ref: str, direction: str, hops: int):
        """Where REF came from and what came from it (a model ref or artifact:ID / run:ID)."""
        from raymlops.metadata.lineage import node_key

        node = resolve_node(cctx, ref)
        graph = cctx.store().lineage(node, direction=direction, hops=hops).to_dict()
        graph["root"] = node_key(node)
        emit(cctx, graph, lambda g: render(g, g["root"]))
