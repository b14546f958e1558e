"""Run inside benchmarks/.venv-feast: Feast's offline stores on the benchmark's files.

Usage: python _feast_offline.py SPEC.json  → prints one JSON line per store.
SPEC: {"folder", "entities", "views": [{"name", "path", "ttl_s", "features"}], "stores": ["duckdb", "dask"]}
"""

import hashlib
import json
import os
import resource
import sys
import tempfile
import time
from datetime import timedelta

import pandas as pd


def main() -> None:
    spec = json.load(open(sys.argv[1]))
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource
    from feast.types import Float64

    for kind in spec["stores"]:
        repo = tempfile.mkdtemp()
        offline = {"duckdb": "duckdb", "dask": "file"}[kind]
        with open(os.path.join(repo, "feature_store.yaml"), "w") as f:
            f.write(f"project: bench\nregistry: {repo}/registry.db\nprovider: local\n"
                    f"offline_store:\n  type: {offline}\nonline_store:\n  type: sqlite\n  path: {repo}/online.db\n"
                    "entity_key_serialization_version: 3\n")
        driver = Entity(name="driver", join_keys=["driver_id"])
        views = []
        for v in spec["views"]:
            src = FileSource(name=f"src_{v['name']}", path=v["path"], timestamp_field="event_timestamp", created_timestamp_column="created")
            views.append(FeatureView(name=v["name"], entities=[driver], ttl=timedelta(seconds=v["ttl_s"] or 0),
                                     schema=[Field(name=f, dtype=Float64) for f in v["features"]], source=src))
        store = FeatureStore(repo_path=repo)
        store.apply([driver, *views])
        entity_df = pd.read_parquet(spec["entities"])
        refs = [f"{v['name']}:{f}" for v in spec["views"] for f in v["features"]]
        t0 = time.perf_counter()
        try:
            df = store.get_historical_features(entity_df=entity_df, features=refs, full_feature_names=True).to_df()
            seconds = time.perf_counter() - t0
            df = df.sort_values("row_id").reset_index(drop=True)
            cols = [c for c in df.columns if "__" in c]
            h = hashlib.sha256(pd.util.hash_pandas_object(df[["row_id"] + cols], index=False).values.tobytes()).hexdigest()
            out = {"store": kind, "seconds": round(seconds, 2), "rows": len(df), "hash": h,
                   "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
        except Exception as exc:  # noqa: BLE001 - reported as the baseline's failure
            out = {"store": kind, "error": f"{type(exc).__name__}: {str(exc)[:300]}", "seconds": round(time.perf_counter() - t0, 2)}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
