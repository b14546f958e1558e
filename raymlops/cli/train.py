"""`raymlops train`, `raymlops distill` and `raymlops remediate`."""

from __future__ import annotations

from typing import Any

import click

from raymlops.cli._common import CliContext, command_options, emit, excluded_lines, pass_cli, table
from raymlops.features import FeatureStore
from raymlops.training.distill_tune import distill_sweep
from raymlops.training.evaluate import Threshold
from raymlops.training.metrics import get_metric
from raymlops.training.remediation_run import METHODS, run_remediation
from raymlops.training.search_space import read_space
from raymlops.training.train import Trainer
from raymlops.training.tune import parse_space


def _space(value: str | None) -> dict[str, Any] | None:
    """The search space file as written, checked (Tune's own checks included) before any work."""
    if value is None:
        return None
    space = read_space(value)
    parse_space(space)
    return space


def _feature_service(cctx: CliContext, value: str | None) -> tuple[FeatureStore, str] | None:
    """``REPO.yaml:SERVICE`` checked before any work: the repository loads, the service exists."""
    if value is None:
        return None
    repo, sep, service = value.rpartition(":")
    if not sep or not repo or not service:
        raise click.UsageError(f"--feature-service {value!r} must be REPO.yaml:SERVICE, e.g. feature_repo.yaml:driver_model")
    fs = FeatureStore(repo, settings=cctx.settings, store=cctx.store())
    fs.repo.service(service)
    return fs, service


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("data_path", metavar="DATA")
    @click.option("--target", required=True, help="The column to predict.")
    @click.option("--name", required=True, help="Registered model name.")
    @click.option("--metric", help="The business metric (accuracy, f1, roc_auc, log_loss, rmse, ...).")
    @click.option("--tune", "tune_trials", type=click.IntRange(min=0), default=0, show_default=True, help="Ray Tune trials (ASHA).")
    @click.option("--space", type=click.Path(dir_okay=False), help="Search space YAML (default: HistGradientBoosting's).")
    @click.option("--slice", "slices", multiple=True, help="Evaluate per value (or quantile bucket) of this column.")
    @click.option("--key", multiple=True, help="Key column(s) of the data.")
    @click.option("--keep-column", "keep", multiple=True, help="Use this column as a feature although it looks like a row id, a constant or a timestamp.")
    @click.option("--schema", "schema_path", type=click.Path(dir_okay=False), help="Validate the data against this schema.")
    @click.option("--max-drop", type=float, default=0.0, show_default=True, help="Allowed metric drop against the champion.")
    @click.option("--min-slice", "min_slice", type=float, help="Every slice must reach at least this metric value.")
    @click.option("--experiment", help="Experiment name (default: the model name).")
    @click.option("--promote", is_flag=True, help="Make the new version champion when it is BLESSED.")
    @click.option("--feature-service", "feature_service", metavar="REPO.yaml:SERVICE",
                  help="Serve the new version by entity key with this feature service (DATA is its training set).")
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option("--weight-col", help="Sample weights (e.g. the confidence of aggregated or weak labels); not a feature.")
    @command_options
    @pass_cli
    def train(cctx: CliContext, data_path, target, name, metric, tune_trials, space, slices, key, keep, schema_path, max_drop, min_slice, experiment, promote, feature_service, seed, weight_col):
        """Baselines, default model, optional sweep; register, evaluate per slice and bless."""
        parsed_space = _space(space)
        bind = _feature_service(cctx, feature_service)
        thresholds = []
        if min_slice is not None:
            thresholds.append(Threshold(metric=metric or "accuracy", lower=min_slice, slices="all"))
            if metric is not None:
                get_metric(metric)
        cctx.settings.ensure_home()
        trainer = Trainer(cctx.settings, store=cctx.store())
        result = trainer.fit(
            data_path,
            target=target,
            name=name,
            metric=metric,
            tune_trials=tune_trials,
            space=parsed_space,
            slices=list(slices),
            key=list(key) or None,
            schema_path=schema_path,
            seed=seed,
            experiment=experiment,
            thresholds=thresholds or None,
            max_drop=max_drop,
            keep=list(keep),
            weight_col=weight_col,
        )
        out = result.to_dict()
        out["promoted"] = False
        if bind is not None:
            binding = bind[0].bind_model(f"{name}@{result.version}", service=bind[1], registry=trainer.registry)
            out["feature_service"] = {"service": binding.service, "entity_keys": binding.entity_keys, "online": binding.online}
        if promote and result.blessed:
            trainer.registry.set_alias(name, result.version, "champion", reason="raymlops train --promote: blessed")
            out["promoted"] = True

        def human(r: dict) -> str:
            b = r["blessing"]
            lines = [
                f"registered {r['name']}@{r['version']}  ({r['metric']}: validation {r['metrics']['validation'][r['metric']]:.4f}, "
                f"test {r['metrics']['test'][r['metric']]:.4f})",
                f"runs: {', '.join(str(x['id']) for x in r['runs'])}",
                f"blessing: {b['verdict']}  ({b['baseline']})",
            ]
            lines += [f"  failed: {c['message']}" for c in b["failed"]]
            lines += excluded_lines(r["excluded_columns"])
            if r["worst_slices"]:
                lines.append("worst slices (SliceLine):")
                lines.append(table(r["worst_slices"], ["name", "size", "error_rate", "score"]))
            if r.get("feature_service"):
                fsv = r["feature_service"]
                lines.append(f"served by entity key ({', '.join(fsv['entity_keys'])}) with feature service {fsv['service']!r} from {fsv['online']}")
            if r["promoted"]:
                lines.append(f"{r['name']}@champion -> version {r['version']}")
            elif r["blessed"]:
                lines.append(f"promote with: raymlops models alias {r['name']} {r['version']} champion")
            return "\n".join(lines)

        emit(cctx, out, human)
        return 0

    @cli.command()
    @click.argument("data_path", metavar="DATA")
    @click.option("--target", required=True, help="The label column.")
    @click.option("--teacher", required=True, help="The teacher model: NAME@VERSION or NAME@ALIAS.")
    @click.option("--name", required=True, help="Registered name of the student.")
    @click.option("--trials", type=click.IntRange(min=1), default=8, show_default=True, help="Ray Tune trials.")
    @click.option("--latency-budget-ms", type=click.FloatRange(min=0, min_open=True), help="Register the best student at most this slow.")
    @click.option("--space", type=click.Path(dir_okay=False), help="Search space YAML over temperature, alpha, capacity, student.")
    @click.option("--schema", "schema_path", type=click.Path(dir_okay=False))
    @click.option("--keep-column", "keep", multiple=True, help="Use this column as a feature although it looks like a row id, a constant or a timestamp.")
    @click.option("--seed", type=int, default=0, show_default=True)
    @command_options
    @pass_cli
    def distill(cctx: CliContext, data_path, target, teacher, name, trials, latency_budget_ms, space, schema_path, keep, seed):
        """Distil a registered teacher into small students; register the best within a latency budget."""
        parsed_space = _space(space)
        cctx.settings.ensure_home()
        trainer = Trainer(cctx.settings, store=cctx.store())
        trainer.registry.get(teacher)  # an unknown teacher fails before any work
        out = distill_sweep(
            trainer,
            data_path,
            target=target,
            teacher=teacher,
            name=name,
            trials=trials,
            latency_budget_ms=latency_budget_ms,
            space=parsed_space,
            seed=seed,
            schema_path=schema_path,
            keep=list(keep),
        )

        def human(r: dict) -> str:
            lines = [
                f"teacher {r['teacher']}: accuracy {r['teacher_accuracy']:.4f}, {r['teacher_size_bytes']} bytes, "
                f"{r['teacher_latency_ms']:.2f} ms per row",
                table(r["trials"], ["temperature", "alpha", "capacity", "accuracy", "latency_ms", "size_bytes", "pareto"]),
            ]
            if r["version"] is None:
                lines.append(r.get("message", "nothing registered"))
            else:
                lines.append(
                    f"registered {r['name']}@{r['version']} ({r['blessing']}): {r['size_ratio']:.1f}x smaller, "
                    f"{r['latency_ratio']:.1f}x faster than the teacher"
                )
            lines += excluded_lines(r["excluded_columns"])
            return "\n".join(lines)

        emit(cctx, out, human)
        return 0

    @cli.command()
    @click.argument("data_path", metavar="DATA")
    @click.option("--target", required=True, help="The label column.")
    @click.option("--model", "model_ref", required=True, help="The model to remediate: NAME@VERSION or NAME@ALIAS.")
    @click.option("--slice", "slice_expr", required=True, help="The underperforming slice, COLUMN=VALUE.")
    @click.option("--method", type=click.Choice(list(METHODS)), default="thresholds", show_default=True)
    @click.option("--lam", type=click.FloatRange(min=0), default=3.0, show_default=True, help="MinDiff weight (mindiff).")
    @click.option("--register", help="Register the remediated model under this name.")
    @click.option("--schema", "schema_path", type=click.Path(dir_okay=False))
    @click.option("--seed", type=int, default=0, show_default=True)
    @command_options
    @pass_cli
    def remediate(cctx: CliContext, data_path, target, model_ref, slice_expr, method, lam, register, schema_path, seed):
        """Close a slice gap (per-slice thresholds, MinDiff, slice augmentation); compare before/after."""
        cctx.settings.ensure_home()
        trainer = Trainer(cctx.settings, store=cctx.store())
        trainer.registry.get(model_ref)
        out = run_remediation(
            trainer, data_path, target=target, model=model_ref, slice_expr=slice_expr, method=method,
            lam=lam, register=register, seed=seed, schema_path=schema_path,
        )

        def human(r: dict) -> str:
            c = r["comparison"]
            lines = [
                f"{r['method']} on slice {r['slice']} of {r['model']}:",
                f"  slice gap   {c['slice_gap']['before']:.4f} -> {c['slice_gap']['after']:.4f}",
                f"  overall     {c['overall']['before']:.4f} -> {c['overall']['after']:.4f}",
            ]
            if "mmd2" in r:
                lines.append(f"  score MMD²  {r['mmd2']['before']:.5f} -> {r['mmd2']['after']:.5f}")
            if r["registered"]:
                lines.append(f"registered as version {r['registered']}")
            return "\n".join(lines)

        emit(cctx, out, human)
        return 0
