"""`raymlops features apply|historical|materialize|get|bind|status`."""

from __future__ import annotations

import click

from raymlops.cli._common import CliContext, command_options, emit, pass_cli, table
from raymlops.features import FeatureStore


def _refs(value: str | None) -> list[str] | None:
    if value is None:
        return None
    refs = [r.strip() for r in value.split(",") if r.strip()]
    if not refs:
        raise click.UsageError("--features is empty: pass view:feature,view:feature")
    return refs


def _store(cctx: CliContext, repo: str, online: str | None = None) -> FeatureStore:
    cctx.settings.ensure_home()
    return FeatureStore(repo, settings=cctx.settings, store=cctx.store(), online=online)


def _entity(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--entity {v!r} must be KEY=VALUE, e.g. --entity driver_id=1005")
        out[key.strip()] = val.strip()
    return out


_ONLINE = click.option("--online", help="Online store: sqlite (default), sqlite:///PATH or redis://HOST:PORT/DB.")


def register(cli: click.Group) -> None:
    @cli.group()
    def features() -> None:
        """Feature store: definitions, point-in-time training sets, online features."""

    @features.command()
    @click.argument("repo", metavar="REPO.yaml")
    @command_options
    @pass_cli
    def apply(cctx: CliContext, repo: str):
        """Check the definitions against the files; record a new version if anything changed."""
        out = _store(cctx, repo).apply()
        out = {"version": out["version"], "changed": out["changed"], "feature_views": out["feature_views"]}

        def human(r: dict) -> str:
            head = f"version {r['version']}: " + ("; ".join(r["changed"]) if r["changed"] else "no changes")
            return head + f"\nfeature views: {', '.join(r['feature_views']) or '(none)'}"

        emit(cctx, out, human)

    @features.command()
    @click.argument("repo", metavar="REPO.yaml")
    @click.option("--entities", "entities", help="Entity rows: a CSV/Parquet file, folder or glob.")
    @click.option("--timestamp-col", default="event_timestamp", show_default=True, help="The entity rows' timestamp column.")
    @click.option("--features", "features_", help="view:feature,... to retrieve.")
    @click.option("--service", help="A feature service to retrieve.")
    @click.option("--start", help="Without --entities: the first event time (ISO 8601; naive means UTC).")
    @click.option("--end", help="Without --entities: the last event time.")
    @click.option("--out", required=True, help="The Parquet file to write.")
    @click.option("--partitions", type=click.IntRange(min=1), help="Shuffle partitions (default from the data size).")
    @click.option("--engine", type=click.Choice(["ray", "local", "auto"]), default="ray", show_default=True,
                  help="Join on Ray Data, in this process (no Ray), or in process when the inputs total 32 MiB or less.")
    @command_options
    @pass_cli
    def historical(cctx: CliContext, repo, entities, timestamp_col, features_, service, start, end, out, partitions, engine):
        """Write a point-in-time-correct training set: every entity row, in order, with view__feature columns."""
        if (features_ is None) == (service is None):
            raise click.UsageError("pass exactly one of --features view:feature,... or --service NAME")
        if entities is not None and (start or end):
            raise click.UsageError("--start/--end retrieve without an entity table; do not combine them with --entities")
        if entities is None and not (start and end):
            raise click.UsageError("pass --entities ENTITY_DATA, or --start and --end to retrieve by time range")
        fs = _store(cctx, repo)
        r = fs.get_historical_features(entities, features=_refs(features_), service=service, out=out,
                                       timestamp_col=timestamp_col, start=start, end=end, partitions=partitions, engine=engine)
        emit(cctx, r, lambda r: f"wrote {r['rows']} rows to {r['out']} ({r['join']} join, definitions version "
                                f"{r['definition_version']})\ncolumns: {', '.join(r['columns'])}")

    @features.command()
    @click.argument("repo", metavar="REPO.yaml")
    @click.option("--start", help="Only rows with an event at or after this time.")
    @click.option("--end", help="Rows with an event up to this time (ISO 8601; default now with --incremental).")
    @click.option("--incremental", is_flag=True, help="Only rows new since the last run (late rows included).")
    @click.option("--lookback", default="1h", show_default=True, help="How far before the last run's newest created time to look again.")
    @click.option("--view", "views", multiple=True, help="Only these feature views (default all).")
    @_ONLINE
    @command_options
    @pass_cli
    def materialize(cctx: CliContext, repo, start, end, incremental, lookback, views, online):
        """Load the newest values per entity key into the online store."""
        if not incremental and end is None:
            raise click.UsageError("pass --end T (and optionally --start T), or --incremental")
        if incremental and start is not None:
            raise click.UsageError("--incremental reads what is new since the last run; do not combine it with --start")
        r = _store(cctx, repo, online).materialize(start=start, end=end, incremental=incremental, lookback=lookback, views=views or None)

        def human(r: dict) -> str:
            rows = [{"view": v, **x} for v, x in r["views"].items()]
            return f"online store {r['online']}\n" + table(rows, ["view", "rows_read", "rows_written", "newest_event", "freshness_s", "seconds"])

        emit(cctx, r, human)

    @features.command()
    @click.argument("repo", metavar="REPO.yaml")
    @click.option("--entity", "entity", multiple=True, required=True, help="KEY=VALUE of a join key (repeat for composite keys).")
    @click.option("--features", "features_", help="view:feature,... to read.")
    @click.option("--service", help="A feature service to read.")
    @click.option("--at", help="Judge the TTL at this instant instead of now (ISO 8601).")
    @_ONLINE
    @command_options
    @pass_cli
    def get(cctx: CliContext, repo, entity, features_, service, at, online):
        """Online features of one entity, with a status per feature (TTL enforced)."""
        if (features_ is None) == (service is None):
            raise click.UsageError("pass exactly one of --features view:feature,... or --service NAME")
        r = _store(cctx, repo, online).get_online_features(_entity(entity), features=_refs(features_), service=service, now=at).to_dict(0)
        emit(cctx, r, lambda r: table([{"feature": k, "value": v, "status": r["status"][k]} for k, v in r["features"].items()],
                                      ["feature", "value", "status"]))

    @features.command()
    @click.argument("repo", metavar="REPO.yaml")
    @click.argument("model_ref", metavar="MODEL_REF")
    @click.option("--service", required=True, help="The feature service the model was trained on.")
    @_ONLINE
    @command_options
    @pass_cli
    def bind(cctx: CliContext, repo, model_ref, service, online):
        """Serve MODEL_REF by entity key: its servers join SERVICE's online features into each request."""
        b = _store(cctx, repo, online).bind_model(model_ref, service=service, registry=cctx.registry())
        out = {"model": model_ref, "service": b.service, "features": b.columns, "entity_keys": b.entity_keys, "online": b.online,
               "definition_version": b.definition_version}
        emit(cctx, out, lambda r: f"{r['model']} is served by entity key ({', '.join(r['entity_keys'])}): feature service "
                                  f"{r['service']!r} ({len(r['features'])} features) from {r['online']}")

    @features.command()
    @click.argument("repo", metavar="REPO.yaml")
    @_ONLINE
    @command_options
    @pass_cli
    def status(cctx: CliContext, repo, online):
        """Per view: online rows, newest event, freshness and the last materialization."""
        r = _store(cctx, repo, online).status()
        emit(cctx, {"views": r}, lambda r: table(r["views"], ["view", "online_rows", "newest_event", "freshness_s", "ttl", "last_materialization"]))
