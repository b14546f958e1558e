"""A click group that imports a command's module only when that command runs.

Each command group module (``raymlops/cli/<module>.py``) has a ``register(group)``
function that adds its commands to a group. The root knows, for every command, its
module and the one-line help ``raymlops --help`` shows; a command's module (and the
lifecycle package behind it: Ray Serve, scikit-learn, Ray Data...) is imported only when
that command is asked for, so ``raymlops --help`` and ``raymlops models list`` start
fast. This is click's documented lazy-loading pattern ("Lazily Loading Subcommands").
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import click

__all__ = ["LazyCommand", "LazyGroup"]


class LazyCommand(NamedTuple):
    """Where a root command is defined, and its one-line help."""

    module: str
    help: str


class LazyGroup(click.Group):
    """A group whose commands come from ``lazy = {name: LazyCommand}``, imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, LazyCommand] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})
        self._loaded: set[str] = set()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = self.lazy.get(cmd_name)
        if spec is not None and spec.module not in self._loaded:
            importlib.import_module(spec.module).register(self)
            self._loaded.add(spec.module)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the lazy table: no module is imported to show ``--help``."""
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name].help))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(formatter.width - 6 - max(len(n) for n in self.lazy))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
