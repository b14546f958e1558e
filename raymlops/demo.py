"""The main job, end to end on an embedded local Ray (``raymlops demo``).

Each lifecycle part adds a chapter; every chapter records into the same metadata
store, so the final lineage shows how the champion came to be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from raymlops.config import Settings

__all__ = ["run_demo"]

DATASET = "breast_cancer"
TARGET = "target"
MODEL = "breast-cancer"


def _train_in_task(dataset_id: int, settings_dict: dict[str, Any]) -> dict[str, Any]:
    """Runs in a Ray worker: reads the dataset, trains, tracks and registers through the store actor."""
    from raymlops.metadata import connect
    from raymlops.training import train_baseline

    settings = Settings(**settings_dict)
    store = connect(settings)
    dataset = store.get_artifact(dataset_id)
    return train_baseline(dataset, target=TARGET, name=MODEL, experiment="demo", seed=0, settings=settings)


def _dirty_feed(settings: Settings) -> tuple[str, int]:
    """Today's feed: the bundled data with a few broken rows, as real feeds have."""
    from raymlops.data.ingest import load_sklearn_frame

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


def run_demo(settings: Settings, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every chapter of the demo; returns a summary (printed as JSON by ``--json``)."""
    import ray

    from raymlops import runtime
    from raymlops.cli._common import table
    from raymlops.cli.lineage import render
    from raymlops.data.pipeline import DataPipeline
    from raymlops.metadata import connect
    from raymlops.registry import ModelRegistry

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
    say(table(prof, ["column", "count", "nulls", "min", "max", "mean", "p50", "p99"]))
    counts, splits = pipe.split(arts["valid"], stratify=TARGET)
    say(f"deterministic stratified split: {counts}")
    issues, _ = pipe.label_quality(splits["train"], target=TARGET)
    say(f"label quality (5 folds as Ray tasks + cleanlab): {len(issues)} suspicious labels in the training split")
    _, info, transform = pipe.features(splits["train"], target=TARGET)
    say(f"feature transform fitted on the training split only: {len(info['features_out'])} features -> {transform.uri[:60]}...")
    summary["data"] = {"validation": rep, "splits": counts, "label_issues": len(issues)}

    say("\n== 2. Baseline, registry, lineage")
    task = ray.remote(num_cpus=1)(_train_in_task)
    record = ray.get(task.remote(splits["train"].id, settings.model_dump()))
    say(
        f"trained a baseline in a Ray task: run {record['run_id']}, accuracy {record['metrics']['accuracy']:.3f}; "
        f"registered {record['name']}@{record['version']} (sha256 {record['sha256'][:12]})"
    )
    move = registry.set_alias(MODEL, record["version"], "champion", reason="demo: baseline becomes champion")
    say(f"{MODEL}@champion -> version {move['to_version']} (was {move['from_version'] or 'unset'})")

    graph = store.lineage(("artifact", record["artifact_id"]), direction="up", hops=20).to_dict()
    root = f"artifact:{record['artifact_id']}"
    say(f"lineage of {MODEL}@champion:")
    say(render(graph, root))
    summary.update({"model": record, "champion_lineage": graph})
    return summary
