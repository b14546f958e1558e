"""`raymlops models list | show REF | alias NAME VERSION ALIAS | history NAME`."""

from __future__ import annotations

import datetime as dt

import click

from raymlops.cli._common import CliContext, command_options, emit, pass_cli, table


def _when(ts: float | None) -> str:
    return "-" if ts is None else dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def register(cli: click.Group) -> None:
    @cli.group()
    def models():
        """Registered models, versions and aliases."""

    @models.command("list")
    @command_options
    @pass_cli
    def list_(cctx: CliContext):
        """Every registered model with its latest version and aliases."""
        rows = cctx.registry().list_models()
        emit(cctx, rows, lambda r: table(r, ["name", "latest_version", "versions", "aliases"], "no models registered yet"))

    @models.command()
    @click.argument("ref")
    @command_options
    @pass_cli
    def show(cctx: CliContext, ref: str):
        """Show one version: NAME@VERSION, NAME@ALIAS or NAME (latest)."""
        reg = cctx.registry()
        rec = reg.get(ref)
        rec["blessing"] = reg.verdict(rec["name"], rec["version"])

        def human(r: dict) -> str:
            sig_in = ", ".join(f"{c['name']}:{c['type']}" for c in r["signature"].get("inputs", []))
            lines = [
                f"{r['name']}@{r['version']}  aliases: {', '.join(r['aliases']) or '-'}",
                f"  sha256:    {r['sha256']}",
                f"  created:   {_when(r['created'])}",
                f"  run:       execution:{r['run_id']}",
                f"  inputs:    {sig_in or '-'}",
                f"  output:    {r['signature'].get('output') or '-'}",
            ]
            b = r.get("blessing")
            lines.append(f"  blessing:  {b['verdict'] if b else 'not evaluated'}")
            if r.get("description"):
                lines.append(f"  about:     {r['description']}")
            return "\n".join(lines)

        emit(cctx, rec, human)

    @models.command()
    @click.argument("name")
    @click.argument("version", type=int)
    @click.argument("alias")
    @click.option("--reason", help="Why the alias moves (kept in its history).")
    @click.option("--force", is_flag=True, help="Move it even if a promotion check refuses (recorded).")
    @command_options
    @pass_cli
    def alias(cctx: CliContext, name: str, version: int, alias: str, reason: str | None, force: bool):
        """Point ALIAS (champion, challenger, ...) at NAME@VERSION."""
        move = cctx.registry().set_alias(name, version, alias, reason=reason, force=force)
        emit(
            cctx,
            move,
            f"{name}@{alias}: {move['from_version'] or '-'} -> {move['to_version']}"
            + (f" ({reason})" if reason else ""),
        )

    @models.command()
    @click.argument("name")
    @click.option("--alias", "alias_name", help="Only this alias.")
    @command_options
    @pass_cli
    def history(cctx: CliContext, name: str, alias_name: str | None):
        """Every alias move of NAME: when, from, to, why."""
        rows = cctx.registry().alias_history(name, alias_name)
        for r in rows:
            r["when"] = _when(r["time"])
        emit(
            cctx,
            rows,
            lambda rs: table(rs, ["when", "alias", "from_version", "to_version", "forced", "reason", "actor"], "no alias moves"),
        )
