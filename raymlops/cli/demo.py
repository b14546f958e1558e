"""`raymlops demo`: the main job, end to end, on an embedded local Ray."""

from __future__ import annotations

import click

from raymlops.cli._common import CliContext, command_options, emit, pass_cli


def register(cli: click.Group) -> None:
    @cli.command()
    @command_options
    @pass_cli
    def demo(cctx: CliContext):
        """Run the whole lifecycle on a bundled dataset and print the champion's lineage."""
        from raymlops.demo import run_demo

        say = (lambda s: None) if cctx.json else click.echo
        summary = run_demo(cctx.settings, say)
        emit(cctx, summary)
