"""Shared pieces of the CLI: global options, the context object, output helpers."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import click

from raymlops.cli.render import table
from raymlops.core.config import Settings
from raymlops.core.runtime import init as init_ray
from raymlops.metadata import connect
from raymlops.registry import ModelRegistry

__all__ = ["CliContext", "command_options", "emit", "excluded_lines", "global_options", "pass_cli", "table"]


class CliContext:
    """Settings and output mode of one CLI invocation; opens the store lazily."""

    def __init__(self, *, address=None, home=None, metadata_uri=None, json=False, verbose=False):
        self.address = address
        self.home = home
        self.metadata_uri = metadata_uri
        self.json = json
        self.verbose = verbose
        self._settings: Settings | None = None
        self._store = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.resolve(
                home=self.home, metadata_uri=self.metadata_uri, ray_address=self.address, verbose=self.verbose
            )
        return self._settings

    def store(self):
        if self._store is None:
            self._store = connect(self.settings)
        return self._store

    def registry(self) -> ModelRegistry:
        return ModelRegistry.connect(self.settings)

    def init_ray(self, **kwargs: Any) -> None:
        self.settings.ensure_home()
        init_ray(self.settings, **kwargs)


def _global(f: Callable) -> Callable:
    f = click.option("-v", "--verbose", is_flag=True, help="Show Ray's logs and tracebacks.")(f)
    f = click.option("--json", "json_out", is_flag=True, help="Machine-readable JSON on stdout.")(f)
    f = click.option(
        "--metadata-uri", envvar="RAYMLOPS_METADATA_URI", help="SQLAlchemy URL of the metadata store."
    )(f)
    f = click.option("--home", envvar="RAYMLOPS_HOME", help="State folder (default ./.raymlops).")(f)
    f = click.option("--address", envvar="RAY_ADDRESS", help="Ray cluster address (default: embedded local Ray).")(f)
    return f


global_options = _global


def command_options(f: Callable) -> Callable:
    """Give a subcommand ``--json`` and ``--verbose`` of its own (they also work globally)."""

    @click.option("--json", "json_local", is_flag=True, help="Machine-readable JSON on stdout.")
    @click.option("-v", "--verbose", "verbose_local", is_flag=True, help="Show Ray's logs and tracebacks.")
    @functools.wraps(f)
    def wrapper(*args: Any, json_local: bool, verbose_local: bool, **kwargs: Any):
        cctx = click.get_current_context().find_object(CliContext)
        if cctx is not None:
            cctx.json = cctx.json or json_local
            cctx.verbose = cctx.verbose or verbose_local
        return f(*args, **kwargs)

    return wrapper


def pass_cli(f: Callable) -> Callable:
    return click.pass_obj(f)


def emit(cctx: CliContext, data: Any, human: str | Callable[[Any], str] | None = None) -> None:
    """JSON on stdout with ``--json``, else the human rendering."""
    if cctx.json:
        click.echo(json.dumps(data, indent=2, sort_keys=False, default=_default))
    elif human is not None:
        click.echo(human(data) if callable(human) else human)


def _default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)


def excluded_lines(excluded: list[dict[str, str]]) -> list[str]:
    """One line per column left out of the features, with why and how to keep it."""
    if not excluded:
        return []
    lines = ["not features (keep one with --keep-column COL):"]
    lines += [f"  {e['column']}: {e['reason']}" for e in excluded]
    return lines
