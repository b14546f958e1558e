"""`raymlops runs list`."""

from __future__ import annotations

import click

from raymlops.cli._common import CliContext, command_options, emit, pass_cli, table
from raymlops.tracking import list_runs


def register(cli: click.Group) -> None:
    @cli.group()
    def runs():
        """Tracked runs: params, metrics, code version, data hashes."""

    @runs.command("list")
    @click.option("--experiment", "-e", help="Only runs of this experiment.")
    @click.option("--limit", "-n", type=click.IntRange(min=1), default=50, show_default=True)
    @command_options
    @pass_cli
    def list_(cctx: CliContext, experiment: str | None, limit: int):
        """Runs, newest first."""
        rows = list_runs(cctx.store(), experiment=experiment, limit=limit)
        emit(
            cctx,
            rows,
            lambda rs: table(rs, ["id", "experiment", "name", "state", "params", "metrics"], "no runs recorded yet"),
        )
