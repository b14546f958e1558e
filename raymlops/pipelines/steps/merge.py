"""``merge``: the ingested parts as one dataset, oldest first."""

from __future__ import annotations

import pandas as pd

from raymlops.pipelines.step import ArtifactRef, StepContext, step
from raymlops.pipelines.steps._data import read_frame


@step(inputs=["parts"], outputs={"dataset": "Dataset"}, resources={"num_cpus": 0.25}, packages=["pyarrow", "pandas"])
def merge(ctx: StepContext, parts: list[ArtifactRef]) -> dict:
    frames = [read_frame(p) for p in parts]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    df.to_parquet(ctx.output("dataset") / "part-0.parquet", index=False)
    return {"rows": len(df), "parts": len(parts)}
