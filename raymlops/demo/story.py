"""The demo's story: data, labeling, experiments, the serving and drift chapters, the decay loop, the feature store, then the lineage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from raymlops.cli.render import lineage_tree, table, with_quantile_error
from raymlops.core import runtime
from raymlops.core.config import Settings
from raymlops.data.ingest import load_sklearn_frame
from raymlops.data.pipeline import DataPipeline
from raymlops.demo.common import DATASET, MODEL, TARGET
from raymlops.demo.decay import decay_chapter
from raymlops.demo.features import features_chapter
from raymlops.demo.labeling import labeling_chapter
from raymlops.demo.serving import serving_chapter
from raymlops.metadata import connect
from raymlops.registry import ModelRegistry
from raymlops.training.distill_tune import distill_sweep
from raymlops.training.train import Trainer

__all__ = ["run_demo"]


def _dirty_feed(settings: Settings) -> tuple[str, int]:
    """Today's feed: the bundled data with a few broken rows, as real feeds have."""
    df = load_sklearn_frame(DATASET).astype(object)
    df.loc[3, "mean_radius"] = "n/a"  # wrong type
    df.loc[11, "mean_area"] = -50.0  # out of range
    df.loc[25, "worst_texture"] = float("inf")  # NaN/inf
    df.loc[40, "target"] = 7  # an unseen class
    df.loc[41, "mean_smoothness"] = None  # null where required
    path = settings.home / "datasets" / "breast_cancer_feed.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return str(path), 5


def run_demo(
    settings: Settings, say: Callable[[str], None] = print, *, keep_serving: bool = False, port: int = 8000
) -> dict[str, Any]:
    """Run every chapter of the demo; returns a summary (printed as JSON by ``--json``)."""
    settings.ensure_home()
    say(f"raymlops demo  (home: {settings.home})")
    runtime.init(settings)
    store = connect(settings)
    registry = ModelRegistry.connect(settings)
    summary: dict[str, Any] = {}

    say("\n== 1. Data: schema, validation with quarantine, profile, splits, label quality, features")
    pipe = DataPipeline(settings, store=store, run_name="demo-data")
    reference = pipe.ingest(f"sklearn://{DATASET}")
    schema, schema_art = pipe.schema(reference, label=TARGET, save_to=pipe.path("schema.json"))
    say(f"inferred a schema from the reference data ({len(schema.columns)} columns, label {TARGET!r}): {schema_art.uri}")
    feed_path, planted = _dirty_feed(settings)
    feed = pipe.ingest(feed_path)
    outcome, arts = pipe.validate(feed, schema, schema_art)
    rep = outcome.report.to_dict()
    say(f"validated today's feed: {rep['rows_in']} rows in, {rep['rows_valid']} valid, {rep['rows_quarantined']} quarantined ({planted} planted)")
    say(table(rep["anomalies"], ["column", "kind", "count", "message"]))
    say(f"quarantined rows with their reasons: {outcome.quarantine_path}")
    prof = [r for r in outcome.profile.summary() if r["column"] in ("mean_radius", "mean_area", "worst_texture", "target")]
    say("profile of the valid rows (one streaming pass, mergeable sketches):")
    say(table(with_quantile_error(prof), ["column", "count", "nulls", "min", "max", "mean", "p50", "p99", "quantiles"]))
    counts, splits = pipe.split(arts["valid"], stratify=TARGET)
    say(f"deterministic stratified split: {counts}")
    issues, _ = pipe.label_quality(splits["train"], target=TARGET)
    say(f"label quality (5 folds as Ray tasks + cleanlab): {len(issues)} suspicious labels in the training split")
    _, info, transform = pipe.features(splits["train"], target=TARGET)
    say(f"feature transform fitted on the training split only: {len(info['features_out'])} features -> {transform.uri[:60]}...")
    summary["data"] = {"validation": rep, "splits": counts, "label_issues": len(issues)}

    say("\n== 2. Labeling: crowd labels aggregated by annotator reliability")
    summary["labeling"] = labeling_chapter(settings, say, store=store)

    say("\n== 3. Experiments: baselines, a Ray Tune sweep, evaluation per slice, blessing, distillation")
    trainer = Trainer(settings, store=store)
    prep = trainer.prepare(feed_path, target=TARGET, schema_path=schema_art.uri[len("file://") :], run_name="demo-train")
    result = trainer.fit(feed_path, target=TARGET, name=MODEL, tune_trials=4, slices=["mean_radius"], prepared=prep, experiment="demo")
    for r in result.runs:
        value = r["metrics"].get("val_accuracy", r["metrics"].get("accuracy"))
        say(f"  run {r['id']:>3}  {r['name']:<22} validation accuracy {value:.4f}")
    say(
        f"registered {MODEL}@{result.version} ({result.metric} on the test split: {result.metrics['test'][result.metric]:.4f}); "
        f"blessing: {result.blessing['verdict']} ({result.blessing['baseline']})"
    )
    by_slice = [{"slice": k, **v, "rows": result.evaluation["counts"][k]} for k, v in result.evaluation["by_slice"].items()]
    say(table(by_slice, ["slice", "rows", "accuracy", "f1"], undefined=["accuracy", "f1"]))
    if result.worst_slices:
        w = result.worst_slices[0]
        say(f"worst slice found automatically (SliceLine): {w['name']} ({w['size']} rows, error rate {w['error_rate']:.2f})")
    if result.blessed:
        move = registry.set_alias(MODEL, result.version, "champion", reason="demo: blessed")
        say(f"{MODEL}@champion -> version {move['to_version']} (was {move['from_version'] or 'unset'})")
    summary["train"] = result.to_dict()

    say("\nknowledge distillation on digits: a gradient-boosting teacher -> small MLP students (4 Tune trials)")
    digits = trainer.prepare("sklearn://digits", target=TARGET, run_name="demo-digits")
    teacher = trainer.fit(None, target=TARGET, name="digits", prepared=digits, experiment="demo-digits")
    say(f"teacher digits@{teacher.version}: test accuracy {teacher.metrics['test']['accuracy']:.4f}")
    distilled = distill_sweep(trainer, None, target=TARGET, teacher=f"digits@{teacher.version}", name="digits-student", trials=4, prepared=digits)
    say(table(distilled["trials"], ["temperature", "alpha", "capacity", "accuracy", "latency_ms", "size_bytes", "pareto"]))
    if distilled["version"] is not None:
        say(
            f"registered {distilled['name']}@{distilled['version']} ({distilled['blessing']}): validation accuracy "
            f"{distilled['best']['accuracy']:.4f} vs teacher {distilled['teacher_accuracy']:.4f}, "
            f"{distilled['size_ratio']:.1f}x smaller, {distilled['latency_ratio']:.1f}x faster per row"
        )
    summary["distill"] = distilled

    say("\n== 4. Deployment on Ray Serve: champion live, a challenger shadowed then canaried, gates decide")
    summary["serving"] = serving_chapter(settings, trainer, prep, say, port=port, keep_serving=keep_serving)

    say("\n== 5. The decay loop: drift -> retrain -> canary -> promote, with the lineage printed")
    summary["decay"] = decay_chapter(settings, say, port=port, keep_serving=keep_serving)

    say("\n== 6. Feature store: a point-in-time training set, a model trained on it, served by entity key")
    summary["features"] = features_chapter(settings, say, port=port, keep_serving=keep_serving)

    record = registry.get(f"{MODEL}@champion")  # read now: the serving chapter may have promoted the challenger (the decay chapter has a model of its own)
    graph = store.lineage(("artifact", record["artifact_id"]), direction="up", hops=20).to_dict()
    root = f"artifact:{record['artifact_id']}"
    say(f"lineage of {MODEL}@champion (version {record['version']}):")
    say(lineage_tree(graph, root))
    summary.update({"model": record, "champion_lineage": graph})
    return summary
