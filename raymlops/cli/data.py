"""`raymlops data validate | profile | pipeline`."""

from __future__ import annotations

import click

from raymlops.cli._common import CliContext, command_options, emit, excluded_lines, pass_cli, table
from raymlops.data.artifacts import dataset_artifact
from raymlops.data.errors import DataUnusableError, reading
from raymlops.data.pipeline import DataPipeline
from raymlops.data.ray_ops import profile_dataset
from raymlops.data.schema import Schema


def _pipeline(cctx: CliContext, out_dir: str | None = None) -> DataPipeline:
    cctx.settings.ensure_home()  # Ray starts when the first step reads data
    return DataPipeline(cctx.settings, store=cctx.store(), out_dir=out_dir)


def register(cli: click.Group) -> None:
    @cli.group()
    def data():
        """Validate, profile and prepare data on Ray Data, with lineage."""

    @data.command()
    @click.argument("data_path", metavar="DATA")
    @click.option("--schema", "schema_path", type=click.Path(dir_okay=False), help="Validate against this schema JSON.")
    @click.option("--save-schema", type=click.Path(dir_okay=False), help="Infer a schema and save it here (edit it, then pass --schema).")
    @click.option("--quarantine", type=click.Path(dir_okay=False), help="Parquet file for rejected rows and their reasons.")
    @click.option("--label", help="Label column (when inferring a schema).")
    @click.option("--key", multiple=True, help="Key column(s) that must be unique (when inferring).")
    @click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), help="When the file names do not tell.")
    @command_options
    @pass_cli
    def validate(cctx: CliContext, data_path, schema_path, save_schema, quarantine, label, key, fmt):
        """Check DATA against a schema; quarantine bad rows. Exit 0 valid, 1 anomalies, 2 unusable."""
        if schema_path and save_schema:
            raise click.UsageError("pass either --schema (validate against it) or --save-schema (infer and save one), not both")
        pipe = _pipeline(cctx)
        raw = pipe.ingest(data_path, format=fmt)
        schema, schema_art = pipe.schema(raw, schema_path=schema_path, save_to=save_schema, label=label, key=list(key) or None)
        outcome, arts = pipe.validate(raw, schema, schema_art, quarantine_path=quarantine, write_valid=False)
        rep = outcome.report.to_dict()
        rep["quarantine"] = outcome.quarantine_path
        rep["schema"] = schema_art.uri[len("file://") :]

        def human(r: dict) -> str:
            lines = [
                f"rows in: {r['rows_in']}   valid: {r['rows_valid']}   quarantined: {r['rows_quarantined']}",
                f"schema: {r['schema']}",
            ]
            if r["anomalies"]:
                lines.append(table(r["anomalies"], ["column", "kind", "count", "message"]))
                lines.append(f"quarantined rows and their reasons: {r['quarantine']}")
            else:
                lines.append("no anomalies")
            return "\n".join(lines)

        emit(cctx, rep, human)
        return 0 if not rep["anomalies"] else 1

    @data.command()
    @click.argument("data_path", metavar="DATA")
    @click.option("--out", type=click.Path(dir_okay=False), help="Save the profile JSON here (the drift reference format).")
    @click.option("--schema", "schema_path", type=click.Path(dir_okay=False), help="Column types and histogram ranges.")
    @click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]))
    @command_options
    @pass_cli
    def profile(cctx: CliContext, data_path, out, schema_path, fmt):
        """Per-column statistics of DATA in one streaming pass."""
        pipe = _pipeline(cctx)
        raw = pipe.ingest(data_path, format=fmt)
        schema = Schema.load(schema_path) if schema_path else None
        with pipe.store.run_execution("Profile", inputs={"data": raw}, contexts=[pipe.context]) as step:
            with reading(data_path):
                prof = profile_dataset(pipe.read(raw), schema=schema)
            if prof.rows == 0:
                raise DataUnusableError(f"{data_path} has no rows: nothing to profile")
            path = prof.save(out or pipe.path("profile.json"))
            step.add_output(dataset_artifact(path, type="Statistics", name="profile", rows=prof.rows), role="statistics")
        summary = {"rows": prof.rows, "profile": path, "columns": prof.summary()}

        def human(s: dict) -> str:
            num = [c for c in s["columns"] if c["kind"] == "numeric"]
            cat = [c for c in s["columns"] if c["kind"] == "categorical"]
            parts = [f"rows: {s['rows']}   profile: {s['profile']}"]
            if num:
                parts.append(table(num, ["column", "count", "nulls", "nan", "min", "max", "mean", "std", "p01", "p50", "p99"]))
            if cat:
                parts.append(table(cat, ["column", "count", "nulls", "distinct", "top"]))
            parts.append("quantiles within 1% relative error (DDSketch)")
            return "\n".join(parts)

        emit(cctx, summary, human)
        return 0

    @data.command("pipeline")
    @click.argument("data_path", metavar="DATA")
    @click.option("--target", required=True, help="The label (target) column.")
    @click.option("--key", multiple=True, help="Key column(s): unique, and the split hash.")
    @click.option("--schema", "schema_path", type=click.Path(dir_okay=False))
    @click.option("--label-issues", type=click.Choice(["report", "prune", "queue", "off"]), default="report", show_default=True)
    @click.option("--augment/--no-augment", default=False, help="SMOTE-style class rebalancing of the training split.")
    @click.option("--select", type=click.Choice(["mutual_info", "model"]), help="Feature selection.")
    @click.option("--k", type=click.IntRange(min=1), help="Features kept by --select mutual_info.")
    @click.option("--keep-column", "keep", multiple=True, help="Use this column as a feature although it looks like a row id, a constant or a timestamp.")
    @click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder.")
    @click.option("--seed", type=int, default=0, show_default=True)
    @command_options
    @pass_cli
    def pipeline_cmd(cctx: CliContext, data_path, target, key, schema_path, label_issues, augment, select, k, keep, out_dir, seed):
        """Ingest, validate, split, check labels, augment and fit features, with lineage."""
        pipe = _pipeline(cctx, out_dir)
        res = pipe.run(
            data_path,
            target=target,
            key=list(key) or None,
            schema_path=schema_path,
            label_quality=label_issues != "off",
            label_action=label_issues if label_issues != "off" else "report",
            augment=augment,
            select=select,
            k=k,
            seed=seed,
            keep=list(keep),
        )
        d = res.to_dict()

        def human(r: dict) -> str:
            v = r["validation"]
            return "\n".join(
                [
                    f"validated {v['rows_in']} rows: {v['rows_valid']} valid, {v['rows_quarantined']} quarantined",
                    f"splits: {r['splits']}",
                    f"label issues: {r['label_issues']}",
                    f"augmented rows: {r['augmented'] or '-'}",
                    f"features out: {len(r['features'].get('features_out', []))}",
                    *excluded_lines(r["excluded_columns"]),
                    f"outputs in {r['out_dir']}",
                ]
            )

        emit(cctx, d, human)
        return 0
