"""``validate``: the schema (the user's, or inferred from this data), then DataPipeline's
validation: bad rows quarantined with reasons, valid rows kept and profiled."""

from __future__ import annotations

import os

from raymlops.data.schema import Schema
from raymlops.pipelines.step import ArtifactRef, StepContext, step
from raymlops.pipelines.steps._data import SCHEMA_FILE, as_artifact, move_into, scratch_pipeline


@step(
    inputs=["dataset"],
    outputs={"valid": "Dataset", "quarantine": "Quarantine", "statistics": "Statistics", "schema": "Schema"},
    files=["schema_path"],
    resources={"num_cpus": 0.5},
    packages=["pyarrow", "pandas"],
)
def validate(ctx: StepContext, dataset: ArtifactRef, *, target: str, schema_path: list[str] = (), key: list[str] = ()) -> dict:
    """Validate ``dataset``; ``schema_path`` (at most one file) is the reference schema."""
    work = ctx.stage_dir
    dp = scratch_pipeline(ctx, work)
    raw = as_artifact(dataset)
    schema_out = ctx.output("schema") / SCHEMA_FILE
    if schema_path:
        schema, schema_art = dp.schema(raw, schema_path=schema_path[0])
        Schema.load(schema_path[0]).save(schema_out)
    else:
        schema, schema_art = dp.schema(raw, save_to=str(schema_out), label=target, key=list(key) or None)
    outcome, _ = dp.validate(raw, schema, schema_art, quarantine_path=str(ctx.output("quarantine") / "quarantine.parquet"))
    move_into(os.path.join(work, "profile.json"), str(ctx.output("statistics")))
    rep = outcome.report.to_dict()
    return {"rows_in": rep["rows_in"], "rows_valid": rep["rows_valid"], "rows_quarantined": rep["rows_quarantined"]}
