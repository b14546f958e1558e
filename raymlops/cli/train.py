"""`raymlops train` and `raymlops distill`."""

from __future__ import annotations

import click

from raymlops.cli._common import CliContext, command_options, emit, pass_cli, table


def _space(value: str | None):
    if value is None:
        return None
    from raymlops.training.search_space import load_space

    load_space(value)  # parse errors surface here, before any work
    import yaml

    with open(value) as f:
        return yaml.safe_load(f)


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
    @click.option("--schema", "schema_path", type=click.Path(dir_okay=False), help="Validate the data against this schema.")
    @click.option("--max-drop", type=float, default=0.0, show_default=True, help="Allowed metric drop against the champion.")
    @click.option("--min-slice", "min_slice", type=float, help="Every slice must reach at least this metric value.")
    @click.option("--experiment", help="Experiment name (default: the model name).")
    @click.option("--seed", type=int, default=0, show_default=True)
    @command_options
    @pass_cli
    def train(cctx: CliContext, data_path, target, name, metric, tune_trials, space, slices, key, schema_path, max_drop, min_slice, experiment, seed):
        """Baselines, default model, optional sweep; register, evaluate per slice and bless."""
        from raymlops.training import metrics as M
        from raymlops.training.evaluate import Threshold
        from raymlops.training.train import Trainer

        parsed_space = _space(space)
        thresholds = []
        if min_slice is not None:
            thresholds.append(Threshold(metric=metric or "accuracy", lower=min_slice, slices="all"))
            if metric is not None:
                M.get_metric(metric)
        cctx.settings.ensure_home()
        result = Trainer(cctx.settings, store=cctx.store()).fit(
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
        )
        out = result.to_dict()

        def human(r: dict) -> str:
            b = r["blessing"]
            lines = [
                f"registered {r['name']}@{r['version']}  ({r['metric']}: validation {r['metrics']['validation'][r['metric']]:.4f}, "
                f"test {r['metrics']['test'][r['metric']]:.4f})",
                f"runs: {', '.join(str(x['id']) for x in r['runs'])}",
                f"blessing: {b['verdict']}  ({b['baseline']})",
            ]
            lines += [f"  failed: {c['message']}" for c in b["failed"]]
            if r["worst_slices"]:
                lines.append("worst slices (SliceLine):")
                lines.append(table(r["worst_slices"], ["name", "size", "error_rate", "score"]))
            if r["blessed"]:
                lines.append(f"promote with: raymlops models alias {r['name']} {r['version']} champion")
            return "\n".join(lines)

        emit(cctx, out, human)
        return 0
