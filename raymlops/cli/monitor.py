"""`raymlops drift REFERENCE CURRENT` (batch) and `raymlops monitor status NAME` (live)."""

from __future__ import annotations

import os

import click
import ray

from raymlops.cli._common import CliContext, command_options, emit, pass_cli, table
from raymlops.core import runtime
from raymlops.core.errors import InvalidInputError
from raymlops.monitoring import PRESETS, batch_drift, get_monitor, render_html


def _fmt_columns(columns: list[dict]) -> str:
    rows = [
        {
            "column": c["column"] if "column" in c else c["feature"],
            "kind": c["kind"],
            "test": c["test"],
            "statistic": c["statistic"],
            "threshold": c["threshold"],
            "p_value": c["p_value"],
            "drift": "DRIFT" if c["drift"] else "ok",
        }
        for c in columns
    ]
    return table(rows, ["column", "kind", "test", "statistic", "threshold", "p_value", "drift"])


def _monitor_text(s: dict) -> str:
    lines = [f"{s['name']}: windows of {s['window']['seconds']:g} s, preset {s['preset']}"]
    for f in s["features"]:
        f.setdefault("column", f["feature"])
    lines.append(_fmt_columns(s["features"]))
    if s.get("prediction"):
        p = s["prediction"]
        lines.append(f"prediction: {p['test']} {p['statistic']:.4g} -> {'DRIFT' if p['drift'] else 'ok'}")
    lines.append(f"dataset drift: {s['dataset_drift']}   concept drift: {s['concept_drift']}   alerts: {', '.join(s['alerts']) or 'none'}")
    return "\n".join(lines)


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("reference", metavar="REFERENCE")
    @click.argument("current", metavar="CURRENT")
    @click.option("--preset", type=click.Choice(list(PRESETS)), default="evidently", show_default=True)
    @click.option("--mode", type=click.Choice(["auto", "exact", "sketch"]), default="auto", show_default=True,
                  help="exact: values in memory (scipy-equal); sketch: streaming profiles on Ray Data (any size).")
    @click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write a self-contained HTML report here.")
    @click.option("--threshold", type=float, help="One threshold for every column (the test's default otherwise).")
    @click.option("--drift-share", type=click.FloatRange(0, 1, min_open=True), default=0.5, show_default=True)
    @click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]))
    @command_options
    @pass_cli
    def drift(cctx: CliContext, reference, current, preset, mode, html_path, threshold, drift_share, fmt):
        """Compare CURRENT with REFERENCE column by column; exit 1 on dataset drift.

        Either side may be data (CSV, Parquet, folder, glob, URI, sklearn://NAME) or a
        saved profile (`raymlops data profile --out`). Exit 0: no dataset drift; 1:
        dataset drift; 2: unusable input.
        """
        report, ref, cur, used = batch_drift(
            reference, current, preset=preset, mode=mode, thresholds=threshold, drift_share=drift_share,
            settings=cctx.settings, format=fmt,
        )  # fmt: skip
        out = {**report.to_dict(), "mode": used, "reference": str(reference), "current": str(current)}
        if html_path:
            os.makedirs(os.path.dirname(os.path.abspath(html_path)), exist_ok=True)
            with open(html_path, "w", encoding="utf-8") as f:
                f.write(render_html(report, ref, cur, title=f"Drift: {current} vs {reference}"))
            out["html"] = os.path.abspath(html_path)

        def human(s: dict) -> str:
            lines = [_fmt_columns(s["columns"])]
            lines.append(
                f"{s['number_of_drifted_columns']} of {s['number_of_columns']} columns drifted "
                f"(share {s['share_of_drifted_columns']:.2f}, dataset drift at >= {s['drift_share']:.2f}): "
                f"{'DATASET DRIFT' if s['dataset_drift'] else 'no dataset drift'}   [{s['preset']} preset, {s['mode']} mode]"
            )
            if s.get("html"):
                lines.append(f"report: {s['html']}")
            return "\n".join(lines)

        emit(cctx, out, human)
        return 1 if report.dataset_drift else 0

    @cli.group()
    def monitor():
        """Live drift monitoring of served models."""

    @monitor.command("status")
    @click.argument("name")
    @click.option("--version", type=int, help="The version to show (default: the one with the most traffic).")
    @command_options
    @pass_cli
    def status(cctx: CliContext, name, version):
        """The last window's drift verdicts of NAME, its alerts and concept drift."""
        runtime.init(cctx.settings, address=cctx.settings.ray_address or "auto")
        try:
            actor = get_monitor(cctx.settings, name, create=False)
        except ValueError:
            raise InvalidInputError(
                f"no drift monitor for {name}: it starts with the first traffic to a served model (`raymlops serve up --model {name}@champion`)"
            ) from None
        full = ray.get(actor.status.remote())
        versions = full["versions"]
        if not versions:
            raise InvalidInputError(f"the monitor of {name} has seen no traffic yet")
        if version is None:
            version = max(versions, key=lambda v: versions[v]["rows"])
        elif str(version) not in versions:
            raise InvalidInputError(f"version {version} of {name} has had no monitored traffic; seen: {sorted(versions)}")
        v = versions[str(version)]
        last = v["last_window"] or {}
        out = {
            "name": name,
            "version": int(version),
            "window": {**full["window"], "index": last.get("window"), "start": last.get("start"), "end": last.get("end"), "rows": last.get("rows")},
            "preset": full["preset"],
            "features": last.get("features") or [],
            "prediction": last.get("prediction"),
            "dataset_drift": bool(last.get("dataset_drift")),
            "drift_share": last.get("drift_share"),
            "judged": bool(last.get("judged")),
            "concept_drift": v["concept_drift"]["drift"],
            "concept": v["concept_drift"],
            "alerts": v["alerts"],
            "horizon": v["horizon"],
            "windows_closed": v["windows_closed"],
            "versions": {k: {"rows": x["rows"], "alerts": x["alerts"]} for k, x in versions.items()},
        }
        emit(cctx, out, _monitor_text)
        return 0
