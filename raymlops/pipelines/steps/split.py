"""``split``: DataPipeline's deterministic (stratified for classification) train/validation/test split."""

from __future__ import annotations

import os

from raymlops.data.schema import Schema
from raymlops.pipelines.step import ArtifactRef, StepContext, step
from raymlops.pipelines.steps._data import SCHEMA_FILE, as_artifact, move_into, scratch_pipeline, task_of


@step(
    inputs=["valid", "schema"],
    outputs={"train": "Dataset", "validation": "Dataset", "test": "Dataset"},
    resources={"num_cpus": 0.5},
    packages=["pyarrow", "pandas"],
)
def split(ctx: StepContext, valid: ArtifactRef, schema: ArtifactRef, *, target: str, seed: int = 0) -> dict:
    sch = Schema.load(schema.file(SCHEMA_FILE))
    work = os.path.join(ctx.stage_dir, "_work")
    dp = scratch_pipeline(ctx, work)
    classification = task_of(sch, target) == "classification"
    counts, _ = dp.split(as_artifact(valid), key=list(sch.key) or None, stratify=target if classification else None, salt=str(seed))
    for name in ("train", "validation", "test"):
        move_into(os.path.join(work, "splits", name), str(ctx.output(name)))
    return {"counts": counts}
