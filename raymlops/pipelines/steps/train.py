"""``train``: raymlops.training.Trainer on the pipeline's splits: baselines, the default
model, an optional Ray Tune sweep; the best candidate is registered as the next version.

The output is a small manifest (name, version, sha256, metrics) pointing at the
registered version; on a cache hit the same version is reused (nothing is retrained or
registered again).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence

import yaml

from raymlops.data.schema import Schema
from raymlops.metadata import Artifact
from raymlops.pipelines.step import ArtifactRef, StepContext, step
from raymlops.pipelines.steps._data import SCHEMA_FILE, excluded, read_frame, task_of
from raymlops.pipelines.steps.features import TRANSFORM_FILE
from raymlops.training.train import Prepared, Trainer

MANIFEST = "model.json"


def prepared_from(
    ctx: StepContext, *, target: str, schema: ArtifactRef, transform: ArtifactRef, splits: dict[str, ArtifactRef], keep: Sequence[str] = ()
) -> Prepared:
    """The Trainer's ``Prepared`` from pipeline artifacts (the store's records, so lineage links)."""
    sch = Schema.load(schema.file(SCHEMA_FILE))
    left_out = excluded(sch, target, keep)
    store = ctx.store()
    arts = {name: store.get_artifact(ref.artifact_id) for name, ref in {**splits, "transform": transform}.items() if ref.artifact_id}
    artifacts: dict[str, Artifact] = {"train": arts.get("train"), "transform": arts.get("transform")}
    if "test" in arts:
        artifacts["split_test"] = arts["test"]
    with open(transform.file(TRANSFORM_FILE), "rb") as f:
        fitted = pickle.load(f)  # noqa: S301 - our own output, verified by its sha256 before this step ran
    frames = {s: read_frame(splits[s]) if s in splits else None for s in ("train", "validation", "test")}
    return Prepared(
        train=frames["train"], validation=frames["validation"], test=frames["test"], transform=fitted,
        task=task_of(sch, target), target=target, artifacts=artifacts, exclude=tuple(e["column"] for e in left_out),
        excluded=tuple(left_out),
    )  # fmt: skip


@step(
    inputs=["train", "validation", "test", "transform", "schema"],
    outputs={"model": "ModelCandidate"},
    files=["space"],
    resources={"num_cpus": 1},
    packages=["scikit-learn", "numpy", "pandas", "ray"],
)
def train(
    ctx: StepContext, train: ArtifactRef, validation: ArtifactRef, test: ArtifactRef, transform: ArtifactRef, schema: ArtifactRef,
    *, target: str, name: str, metric: str | None = None, tune: int = 0, space: list[str] = (), slices: list[str] = (),
    seed: int = 0, experiment: str | None = None, keep: list[str] = (),
) -> dict:  # fmt: skip
    prep = prepared_from(ctx, target=target, schema=schema, transform=transform, splits={"train": train, "validation": validation, "test": test}, keep=keep)
    search = None
    if space:
        with open(space[0]) as f:
            search = yaml.safe_load(f)
    trainer = Trainer(ctx.settings, store=ctx.store())
    res = trainer.fit(
        None, target=target, name=name, metric=metric, tune_trials=int(tune), space=search, slices=list(slices),
        seed=seed, experiment=experiment, prepared=prep,
    )  # fmt: skip
    rec = trainer.registry.get(f"{name}@{res.version}")
    manifest = {
        "name": name, "version": res.version, "sha256": rec["sha256"], "artifact_id": rec["artifact_id"], "metric": res.metric,
        "metrics": res.metrics, "task": prep.task, "target": target, "runs": [r["id"] for r in res.runs], "keep": list(keep),
        "excluded_columns": res.excluded_columns,
    }  # fmt: skip
    (ctx.output("model") / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
    return {"model": f"{name}@{res.version}", "metric": res.metric, "test": res.metrics["test"].get(res.metric)}
