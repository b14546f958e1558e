"""`raymlops lineage REF [--direction up|down|both] [--hops N]`."""

from __future__ import annotations

import click

from raymlops.cli._common import CliContext, command_options, emit, pass_cli
from raymlops.cli.render import lineage_tree
from raymlops.metadata import node_key, parse_node_id


def resolve_node(cctx: CliContext, ref: str) -> tuple[str, int]:
    """A model ref (``NAME@VERSION``/``NAME@ALIAS``) or ``artifact:ID``/``execution:ID``/``run:ID``."""
    if ref.split(":", 1)[0] in ("artifact", "execution", "run"):
        node = parse_node_id(ref)
        getter = cctx.store().get_artifact if node[0] == "artifact" else cctx.store().get_execution
        getter(node[1])
        return node
    return ("artifact", cctx.registry().get(ref)["artifact_id"])


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("ref")
    @click.option("--direction", type=click.Choice(["up", "down", "both"]), default="both", show_default=True)
    @click.option("--hops", type=click.IntRange(min=0), default=20, show_default=True)
    @command_options
    @pass_cli
    def lineage(cctx: CliContext, ref: str, direction: str, hops: int):
        """Where REF came from and what came from it (a model ref or artifact:ID / run:ID)."""
        node = resolve_node(cctx, ref)
        graph = cctx.store().lineage(node, direction=direction, hops=hops).to_dict()
        graph["root"] = node_key(node)
        emit(cctx, graph, lambda g: lineage_tree(g, g["root"]))
