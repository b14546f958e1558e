"""``training_set``: a point-in-time-correct training set from a feature repository and entity rows.

The repository file, the entity rows and every source the selected features read are
``files`` of the step, so their contents are in its cache key: list the sources in
``sources`` (the step refuses a list that leaves one out, so a changed source never
hits a stale cache). The join is :meth:`raymlops.features.FeatureStore.get_historical_features`
with its own records in a scratch store (the pipeline step is the execution that
counts); ``engine="auto"`` joins small inputs in the step's process and larger ones on
Ray Data. The output is one Parquet file: every entity row, in order, then one
``view__feature`` column per feature.
"""

from __future__ import annotations

import os

from raymlops.core.errors import InvalidInputError
from raymlops.features import FeatureStore
from raymlops.metadata import MetadataStore
from raymlops.pipelines.step import StepContext, step

OUTPUT_FILE = "part-0.parquet"


@step(outputs={"training_set": "Dataset"}, files=["repo", "entities", "sources"], resources={"num_cpus": 0.5},
      packages=["pyarrow", "pandas", "numpy"])
def training_set(
    ctx: StepContext,
    repo: str,
    entities: str,
    sources: list[str],
    *,
    service: str | None = None,
    features: list[str] | None = None,
    timestamp_col: str = "event_timestamp",
    engine: str = "auto",
) -> dict:
    """Join ``entities`` with the features of ``service`` (or ``features``) as of each row's time."""
    fs = FeatureStore(repo, settings=ctx.settings, store=MetadataStore("sqlite://"))
    selection = fs.repo.resolve(features, service=service)
    needed = {os.path.abspath(fs.repo.source_path(fs.repo.view(v).source)) for v in selection}
    missing = sorted(needed - {os.path.abspath(os.fspath(p)) for p in sources})
    if missing:
        raise InvalidInputError(
            f"the features read {', '.join(missing)}, which sources= does not list: list every source so its content is in the cache key"
        )
    version = fs.apply()["version"]
    out = ctx.output("training_set") / OUTPUT_FILE
    r = fs.get_historical_features(entities, features=features, service=service, out=str(out), timestamp_col=timestamp_col, engine=engine)
    return {"rows": r["rows"], "columns": r["columns"], "definition_version": version, "join": r["join"], "sources": r["sources"]}
