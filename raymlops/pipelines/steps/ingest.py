"""``ingest``: one source file into typed Parquet (one step per file, so unchanged files hit)."""

from __future__ import annotations

from raymlops.data.pipeline import reading
from raymlops.data.sources import read_dataset, resolve_source
from raymlops.pipelines.step import StepContext, step


@step(outputs={"raw": "Dataset"}, files=["path"], resources={"num_cpus": 0.25}, packages=["pyarrow", "pandas"])
def ingest(ctx: StepContext, path: str) -> dict:
    """Read ``path`` (CSV or Parquet) with raymlops' readers and write it as Parquet."""
    src = resolve_source(path)
    with reading(path):
        ds, _ = read_dataset(path, format=src.format)
        df = ds.to_pandas()
    df.to_parquet(ctx.output("raw") / "part-0.parquet", index=False)
    return {"rows": len(df), "columns": [str(c) for c in df.columns], "source": path}
