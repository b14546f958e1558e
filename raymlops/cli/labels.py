"""`raymlops labels ...`: aggregate crowd labels, labeling functions and the label model,
active-learning queries with Label Studio tasks, Label Studio imports, self-training."""

from __future__ import annotations

import click

from raymlops.cli._common import CliContext, command_options, emit, pass_cli, table
from raymlops.labeling import steps

STRATEGIES = ["margin", "entropy", "least-confidence", "diverse", "random"]


def _lf_table(rows: list[dict]) -> str:
    cols = [c for c in ("name", "polarity", "coverage", "overlaps", "conflicts", "correct", "incorrect", "emp_acc", "weight", "learned_acc") if rows and c in rows[0]]
    return table(rows, cols)


def register(cli: click.Group) -> None:
    @cli.group()
    def labels() -> None:
        """Labels: crowd aggregation, labeling functions, active learning, semi-supervised."""

    @labels.command()
    @click.argument("annotations", metavar="ANNOTATIONS")
    @click.option("--method", type=click.Choice(["ds", "wawa", "mv"]), default="ds", show_default=True, help="Dawid-Skene, Wawa or majority vote.")
    @click.option("--gold", help="Gold labels from SMEs (task, label): they fix those tasks and teach every worker's confusion.")
    @click.option("--sme", multiple=True, help="A subject-matter expert's worker id (a strong reliability prior); repeat for several.")
    @click.option("--task-col", default="task", show_default=True)
    @click.option("--worker-col", default="worker", show_default=True)
    @click.option("--label-col", default="label", show_default=True)
    @click.option("--out", help="LABELS Parquet (default under RAYMLOPS_HOME/labels).")
    @click.option("--workers-out", help="WORKERS Parquet: accuracy, confusion, spammer flag per worker.")
    @click.option("--queue", type=click.IntRange(min=0), default=20, show_default=True, help="Tasks listed in needs_labels.")
    @click.option("--distributed", is_flag=True, help="Run the EM statistics on Ray Data shards (ds only).")
    @command_options
    @pass_cli
    def aggregate(cctx: CliContext, annotations, method, gold, sme, task_col, worker_col, label_col, out, workers_out, queue, distributed):
        """One label per task from many workers' labels, weighted by each worker's reliability."""
        res = steps.aggregate(
            annotations, method=method, gold=gold, sme=list(sme), task_col=task_col, worker_col=worker_col, label_col=label_col,
            out=out, workers_out=workers_out, queue=queue, distributed=distributed, settings=cctx.settings, store=cctx.store(),
        )

        def human(r: dict) -> str:
            g = r["gold"]
            lines = [
                f"{r['method']}: {r['tasks']} tasks, {r['workers']} workers, classes {', '.join(map(str, r['classes']))}"
                + (f"; {r['iterations']} EM iterations ({'converged' if r['converged'] else 'not converged'})" if r["method"] == "ds" else ""),
                f"labels -> {r['out']}",
                f"workers -> {r['workers_out']}  ({r['spammers']} flagged as spammers)",
            ]
            if g["tasks"]:
                acc = "n/a" if g["accuracy"] is None else f"{g['accuracy']:.3f}"
                lines.append(f"gold: {g['tasks']} tasks; the crowd alone agrees with the SMEs on {acc} of the {g['with_labels']} it labelled")
            if r["duplicates"]:
                lines.append(f"{r['duplicates']} repeated (task, worker) labels: the last one was kept")
            lines.append("least reliable workers:")
            lines.append(table(r["worst_workers"], ["worker", "accuracy", "n_labels", "spammer"]))
            lines.append(f"next to label: {', '.join(map(str, r['needs_labels'][:10]))}")
            return "\n".join(lines)

        emit(cctx, res, human)
        return 0

    @labels.command("apply-lfs")
    @click.argument("data", metavar="DATA")
    @click.option("--lfs", "lfs_file", required=True, type=click.Path(dir_okay=False), help="Python file of @labeling_function()s.")
    @click.option("--out", required=True, help="The sparse label matrix (Parquet).")
    @click.option("--gold-col", help="A column of known labels: adds correct, incorrect and emp_acc.")
    @click.option("--key", help="The key column of the data (kept in the matrix).")
    @click.option("--local", is_flag=True, help="Apply in this process instead of Ray Data map_batches.")
    @command_options
    @pass_cli
    def apply_lfs(cctx: CliContext, data, lfs_file, out, gold_col, key, local):
        """Apply labeling functions into a sparse label matrix, with Snorkel's LF analysis."""
        res = steps.apply_lfs(data, lfs=lfs_file, out=out, key=key, gold_col=gold_col, distributed=not local, settings=cctx.settings, store=cctx.store())
        emit(cctx, res, lambda r: f"{r['rows']} rows, {r['votes']} votes, {r['covered']} rows with a vote -> {r['out']}\n" + _lf_table(r["lfs"]))
        return 0

    @labels.command()
    @click.argument("data", metavar="DATA")
    @click.option("--lfs", "lfs_file", required=True, type=click.Path(dir_okay=False), help="Python file of @labeling_function()s.")
    @click.option("--out", required=True, help="Probabilistic labels (Parquet).")
    @click.option("--key", help="The key column of the data.")
    @click.option("--local", is_flag=True, help="Apply the LFs in this process instead of Ray Data.")
    @command_options
    @pass_cli
    def weak(cctx: CliContext, data, lfs_file, out, key, local):
        """Labeling functions -> label model -> probabilistic labels."""
        res = steps.weak(data, lfs=lfs_file, out=out, key=key, distributed=not local, settings=cctx.settings, store=cctx.store())

        def human(r: dict) -> str:
            lines = [
                f"{r['labeled']} of {r['rows']} rows labelled ({r['uncovered']} where every LF abstains) -> {r['out']}",
                _lf_table(r["lfs"]),
            ]
            if r["correlated_lfs"]:
                lines.append(f"correlated LFs counted as one: {', '.join(r['correlated_lfs'])}")
            if r["agreement_with_majority_vote"] is not None:
                lines.append(f"agrees with majority vote on {r['agreement_with_majority_vote']:.3f} of the labelled rows")
            return "\n".join(lines)

        emit(cctx, res, human)
        return 0

    @labels.command()
    @click.argument("pool", metavar="POOL")
    @click.option("--model", "model_ref", required=True, help="A registered model: NAME@VERSION or NAME@ALIAS.")
    @click.option("--k", "k", required=True, type=click.IntRange(min=1), help="Rows to pick.")
    @click.option("--strategy", type=click.Choice(STRATEGIES), default="margin", show_default=True)
    @click.option("--key", help="The key column of the pool.")
    @click.option("--out", help="Where the tasks go (default under RAYMLOPS_HOME/labels).")
    @click.option("--format", "fmt", type=click.Choice(["label-studio", "parquet"]), default="label-studio", show_default=True)
    @click.option("--from-name", default="label", show_default=True, help="Label Studio control name.")
    @click.option("--to-name", default="table", show_default=True, help="Label Studio object name.")
    @click.option("--seed", type=int, default=0, show_default=True)
    @command_options
    @pass_cli
    def query(cctx: CliContext, pool, model_ref, k, strategy, key, out, fmt, from_name, to_name, seed):
        """Score a pool with a model on Ray Data and export the rows to label next."""
        res = steps.query(pool, model=model_ref, k=k, strategy=strategy, key=key, out=out, fmt=fmt, from_name=from_name, to_name=to_name, seed=seed, settings=cctx.settings, store=cctx.store())
        emit(cctx, res, lambda r: f"{r['k']} of {r['pool']} rows by {r['strategy']} -> {r['out']}\n" + table(r["selected"][:20], ["key", "score"]))
        return 0

    @labels.command("import-label-studio")
    @click.argument("export", metavar="EXPORT.json", type=click.Path(dir_okay=False))
    @click.option("--out", required=True, help="The long annotation table (Parquet).")
    @click.option("--key", help="Take task ids from this data field (the key the tasks were exported with).")
    @click.option("--from-name", help="The Choices control to read when there are several.")
    @click.option("--gold-out", help="Also write annotations marked ground truth here (task, label).")
    @command_options
    @pass_cli
    def import_label_studio(cctx: CliContext, export, out, key, from_name, gold_out):
        """Read a Label Studio JSON export into task, worker, label rows."""
        res = steps.import_label_studio(export, out=out, key=key, from_name=from_name, gold_out=gold_out, settings=cctx.settings, store=cctx.store())
        emit(cctx, res, lambda r: f"{r['annotations']} annotations of {r['tasks']} tasks by {r['workers']} annotators -> {r['out']}" + (f"; {r['ground_truth']} ground truth -> {r['gold_out']}" if r["gold_out"] else ""))
        return 0

    @labels.command("self-train")
    @click.argument("data", metavar="DATA")
    @click.option("--target", required=True, help="The label column; rows where it is empty are unlabeled.")
    @click.option("--name", required=True, help="Registered model name.")
    @click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=0.9, show_default=True, help="Smallest probability of a pseudo-label.")
    @click.option("--max-iter", type=click.IntRange(min=1), default=10, show_default=True, help="Most rounds.")
    @click.option("--key", help="The key column (kept with the pseudo-labels, not a feature).")
    @click.option("--out", help="Pseudo-labels Parquet (default under RAYMLOPS_HOME/labels).")
    @click.option("--seed", type=int, default=0, show_default=True)
    @command_options
    @pass_cli
    def self_train(cctx: CliContext, data, target, name, threshold, max_iter, key, out, seed):
        """Self-training: confident pseudo-labels (scored on Ray Data), a tracked run, a registered model."""
        res = steps.self_train(data, target=target, name=name, threshold=threshold, max_iter=max_iter, key=key, out=out, seed=seed, settings=cctx.settings, store=cctx.store())

        def human(r: dict) -> str:
            lines = [
                f"registered {r['name']}@{r['version']}: {r['labeled']} labelled + {r['pseudo_labels']} pseudo-labels of {r['unlabeled']} unlabeled rows",
                table(r["rounds"], ["round", "scored", "added"]),
                f"pseudo-labels -> {r['out']}",
            ]
            c = r["comparison"]
            if c:
                lines.append(f"held-out labelled rows ({c['holdout_rows']}): self-training {c['self_training']:.4f} vs supervised only {c['supervised_only']:.4f}")
            return "\n".join(lines)

        emit(cctx, res, human)
        return 0

    @labels.command()
    @click.argument("data", metavar="DATA")
    @click.argument("labels_path", metavar="LABELS")
    @click.option("--key", required=True, help="The column both tables share (the task id).")
    @click.option("--out", required=True, help="The training table (Parquet) for `raymlops train --weight-col weight`.")
    @click.option("--weights", type=click.Choice(["hard", "soft"]), default="hard", show_default=True, help="hard: label + confidence; soft: a row per class weighted by its probability.")
    @click.option("--target", default="label", show_default=True, help="Name of the label column in the output.")
    @command_options
    @pass_cli
    def join(cctx: CliContext, data, labels_path, key, out, weights, target):
        """Join aggregated or weak labels to their features, with a weight column for training."""
        res = steps.join_labels(data, labels_path, key=key, out=out, target=target, weights=weights, settings=cctx.settings, store=cctx.store())
        emit(cctx, res, lambda r: f"{r['rows']} rows -> {r['out']}  (train with --target {r['target']} --weight-col {r['weight_col']} --key {key})")
        return 0
