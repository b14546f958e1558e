"""`raymlops demo`: the main job, end to end, on an embedded local Ray."""

from __future__ import annotations

import click

from raymlops.cli._common import CliContext, command_options, emit, pass_cli


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--keep-serving", is_flag=True, help="Leave the models served (and block) at the end.")
    @click.option("--port", type=int, default=8000, show_default=True, help="HTTP port of the serving chapter.")
    @command_options
    @pass_cli
    def demo(cctx: CliContext, keep_serving: bool, port: int):
        """Run the whole lifecycle on a bundled dataset and print the champion's lineage."""
        from raymlops.demo import run_demo

        say = (lambda s: None) if cctx.json else click.echo
        summary = run_demo(cctx.settings, say, keep_serving=keep_serving, port=port)
        emit(cctx, summary)
        if keep_serving:
            import time

            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
