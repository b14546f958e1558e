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


def run_demo(settings: Settings, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every chapter of the demo; returns a summary (printed as JSON by ``--json``)."""
    import ray

    from raymlops import runtime
    from raymlops.cli.lineage import render
    from raymlops.data import ingest_sklearn
    from raymlops.metadata import connect
    from raymlops.registry import ModelRegistry

    settings.ensure_home()
    say(f"raymlops demo  (home: {settings.home})")
    say("== 1. Foundation: data artifact, baseline, registry, lineage")
    runtime.init(settings)
    store = connect(settings)
    registry = ModelRegistry.connect(settings)

    dataset = ingest_sklearn(DATASET, settings=settings, store=store)
    say(f"recorded dataset {dataset.name} as artifact:{dataset.id} ({dataset.properties.get('rows')} rows, sha256 {dataset.sha256[:12]})")

    task = ray.remote(num_cpus=1)(_train_in_task)
    record = ray.get(task.remote(dataset.id, settings.model_dump()))
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
    return {"dataset": dataset.to_dict(), "model": record, "champion_lineage": graph}
