"""Run inside the Feast virtualenv: Feast's DuckDB offline store on the PIT parity cases.

Usage: python _feast_pit_cases.py SPEC.json  → prints one JSON object (all cases) on stdout.
SPEC: {"cases": [{"id", "entity", "features", "ttl_s"}]}: one feature view per case over
its one Parquet file (timestamp_field ``ts``, created_timestamp_column ``created``,
features ``f_id`` Float64 and ``f_tag`` String, entity ``driver`` keyed ``driver_id``).
Output per case: the entity rows' ``row_label``s in Feast's output and, sorted by
``row_label``, ``stats_<id>__f_id`` / ``__f_tag`` as lists (null as None), or the error.
"""

import json
import math
import os
import sys
import tempfile
from datetime import timedelta

import pandas as pd


def _val(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def main() -> None:
    spec = json.load(open(sys.argv[1]))
    import feast
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource
    from feast.types import Float64, String

    repo = tempfile.mkdtemp()
    with open(os.path.join(repo, "feature_store.yaml"), "w") as f:
        f.write(f"project: pit_parity\nregistry: {repo}/registry.db\nprovider: local\n"
                f"offline_store:\n  type: duckdb\nonline_store:\n  type: sqlite\n  path: {repo}/online.db\n"
                "entity_key_serialization_version: 3\n")
    driver = Entity(name="driver", join_keys=["driver_id"])
    views = []
    for c in spec["cases"]:
        src = FileSource(name=f"src_{c['id']}", path=c["features"], timestamp_field="ts", created_timestamp_column="created")
        views.append(FeatureView(name=f"stats_{c['id']}", entities=[driver], ttl=timedelta(seconds=c["ttl_s"] or 0),
                                 schema=[Field(name="f_id", dtype=Float64), Field(name="f_tag", dtype=String)], source=src))
    store = FeatureStore(repo_path=repo)
    store.apply([driver, *views])
    results = {}
    for c in spec["cases"]:
        entity_df = pd.read_parquet(c["entity"])
        name = f"stats_{c['id']}"
        try:
            df = store.get_historical_features(entity_df=entity_df, features=[f"{name}:f_id", f"{name}:f_tag"],
                                               full_feature_names=True).to_df()
            labels = [int(x) for x in df["row_label"]]
            df = df.sort_values("row_label", kind="stable").reset_index(drop=True)
            results[c["id"]] = {
                "row_labels": labels,
                "f_id": [_val(float(v)) if _val(v) is not None else None for v in df[f"{name}__f_id"]],
                "f_tag": [_val(v) if _val(v) is None else str(v) for v in df[f"{name}__f_tag"]],
            }
        except Exception as exc:  # noqa: BLE001 - reported as Feast's failure on the case
            results[c["id"]] = {"error": f"{type(exc).__name__}: {str(exc)[:500]}"}
    print(json.dumps({"feast": feast.__version__, "pandas": pd.__version__, "results": results}))


if __name__ == "__main__":
    main()
