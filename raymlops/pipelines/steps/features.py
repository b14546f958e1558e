"""``features``: the feature transform, fitted on the training split only (data.features), on
every column but the target and the schema's not-features (less ``keep``)."""

from __future__ import annotations

from raymlops.artifacts import dumps_model
from raymlops.data.features import build_feature_transform
from raymlops.data.schema import Schema
from raymlops.pipelines.step import ArtifactRef, StepContext, step
from raymlops.pipelines.steps._data import SCHEMA_FILE, excluded, read_frame, task_of

TRANSFORM_FILE = "transform.pkl"


@step(inputs=["train", "schema"], outputs={"transform": "Transform"}, resources={"num_cpus": 0.5}, packages=["scikit-learn", "pandas", "numpy"])
def features(ctx: StepContext, train: ArtifactRef, schema: ArtifactRef, *, target: str, seed: int = 0, keep: list[str] = ()) -> dict:
    sch = Schema.load(schema.file(SCHEMA_FILE))
    df = read_frame(train)
    task = task_of(sch, target)
    exclude = tuple(e["column"] for e in excluded(sch, target, keep))
    transform, info = build_feature_transform(df, target=target, exclude=exclude, task=task, seed=seed)
    (ctx.output("transform") / TRANSFORM_FILE).write_bytes(dumps_model(transform))
    return {"task": task, "features_out": len(info.get("features_out", []))}
