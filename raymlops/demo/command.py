"""`raymlops demo`: the main job, end to end, on an embedded local Ray.

The demo is a face above the CLI: the CLI's lazy command table names this module, and
``register`` adds the command with the CLI's shared options.
"""

from __future__ import annotations

import time

import click

from raymlops.cli import CliContext, command_options, emit, pass_cli
from raymlops.demo.story import run_demo

__all__ = ["register"]


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--keep-serving", is_flag=True, help="Leave the models served (and block) at the end.")
    @click.option("--port", type=int, default=8000, show_default=True, help="HTTP port of the serving chapter.")
    @command_options
    @pass_cli
    def demo(cctx: CliContext, keep_serving: bool, port: int):
        """Run the whole lifecycle on a bundled dataset and print the champion's lineage."""
        say = (lambda s: None) if cctx.json else click.echo
        summary = run_demo(cctx.settings, say, keep_serving=keep_serving, port=port)
        emit(cctx, summary)
        if keep_serving:
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
