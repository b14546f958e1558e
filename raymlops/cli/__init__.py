"""The ``raymlops`` command.

Every command takes ``--json`` (machine output on stdout); people get tables. Exit
codes: 0 ok, 1 a check found problems, 2 unusable input or usage. Errors are one line
on stderr that names the problem and the fix; ``--verbose`` adds the traceback of an
unexpected failure.
"""

from __future__ import annotations

import json
import sys
import traceback

import click

from raymlops.cli._common import CliContext, command_options, emit, global_options, pass_cli
from raymlops.cli._lazy import LazyCommand, LazyGroup
from raymlops.cli.render import lineage_tree, table
from raymlops.core.errors import RaymlopsError

__all__ = [
    "COMMANDS",
    "CliContext",
    "cli",
    "command_options",
    "emit",
    "lineage_tree",
    "main",
    "pass_cli",
    "table",
]


COMMANDS: dict[str, LazyCommand] = {
    "data": LazyCommand("raymlops.cli.data", "Validate, profile and prepare data on Ray Data, with lineage."),
    "demo": LazyCommand("raymlops.demo", "Run the whole lifecycle on a bundled dataset and print the story."),
    "distill": LazyCommand("raymlops.cli.train", "Distil a registered teacher into small students; register the best."),
    "drift": LazyCommand("raymlops.cli.monitor", "Compare CURRENT with REFERENCE column by column; exit 1 on drift."),
    "features": LazyCommand("raymlops.cli.features", "Feature store: definitions, point-in-time training sets, online features."),
    "labels": LazyCommand("raymlops.cli.labels", "Labels: crowd aggregation, labeling functions, active learning, semi-supervised."),
    "lineage": LazyCommand("raymlops.cli.lineage", "Where REF came from and what came from it."),
    "loop": LazyCommand("raymlops.cli.pipeline", "The decay loop: drift alert -> retrain -> canary -> promote or roll back."),
    "models": LazyCommand("raymlops.cli.models", "Registered models, versions and aliases."),
    "monitor": LazyCommand("raymlops.cli.monitor", "Live drift monitoring of served models."),
    "pipeline": LazyCommand("raymlops.cli.pipeline", "Run pipelines on Ray with content-addressed caching; triggers."),
    "remediate": LazyCommand("raymlops.cli.train", "Close a slice gap (per-slice thresholds, MinDiff, augmentation)."),
    "rollout": LazyCommand("raymlops.cli.serve", "Move traffic between versions: recreate, blue-green, canary, A/B, shadow."),
    "runs": LazyCommand("raymlops.cli.runs", "Tracked runs: params, metrics, code version, data hashes."),
    "serve": LazyCommand("raymlops.cli.serve", "Serve registered models on Ray Serve."),
    "train": LazyCommand("raymlops.cli.train", "Baselines, default model, optional sweep; register, evaluate, bless."),
}
"""Every root command: its module (a ``register(group)`` function) and its one-line help.

A new command group is a module in ``raymlops/cli/`` and one line here.
"""


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@global_options
@click.version_option(package_name="raymlops", prog_name="raymlops")
@click.pass_context
def cli(ctx: click.Context, address: str | None, home: str | None, metadata_uri: str | None, json_out: bool, verbose: bool):
    """raymlops: from raw data to a model kept healthy in production, on Ray."""
    ctx.obj = CliContext(address=address, home=home, metadata_uri=metadata_uri, json=json_out, verbose=verbose)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script and ``python -m raymlops``."""
    args = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in args or "-v" in args
    json_out = "--json" in args
    try:
        rv = cli.main(args=args, prog_name="raymlops", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(130)
    except click.exceptions.ClickException as exc:
        hint = ""
        if isinstance(exc, click.exceptions.UsageError) and exc.ctx is not None:
            hint = f" (see `{exc.ctx.command_path} --help`)"
        _fail(exc.format_message() + hint, "usage", 2, json_out)
    except RaymlopsError as exc:
        if verbose:
            traceback.print_exc()
        _fail(exc.message, exc.code, exc.exit_code, json_out, exc.details)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, no traceback
        if verbose:
            traceback.print_exc()
        msg = f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        _fail(msg + " (rerun with --verbose for the traceback and report it)", "internal", 1, json_out)
    sys.exit(rv if isinstance(rv, int) else 0)


def _fail(message: str, code: str, exit_code: int, json_out: bool, details: list | None = None) -> None:
    message = " ".join(message.split())
    if json_out:
        click.echo(json.dumps({"error": {"code": code, "message": message, "details": details or []}}))
    click.echo(f"error: {message}", err=True)
    sys.exit(exit_code)
