"""Run inside benchmarks/.venv-feast: Feast's SQLite online store, materialization and p99 reads.

Usage: python _feast_online.py SPEC.json → one JSON line.
SPEC: {"views": [{"name", "path", "features"}], "entities": N, "end": ISO, "iterations": N}
"""

import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone


def main() -> None:
    spec = json.load(open(sys.argv[1]))
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource
    from feast.types import Float64

    repo = tempfile.mkdtemp()
    with open(os.path.join(repo, "feature_store.yaml"), "w") as f:
        f.write(f"project: bench\nregistry: {repo}/registry.db\nprovider: local\noffline_store:\n  type: file\n"
                f"online_store:\n  type: sqlite\n  path: {repo}/online.db\nentity_key_serialization_version: 3\n")
    driver = Entity(name="driver", join_keys=["driver_id"])
    views = [FeatureView(name=v["name"], entities=[driver], ttl=timedelta(days=1),
                         schema=[Field(name=f, dtype=Float64) for f in v["features"]],
                         source=FileSource(path=v["path"], timestamp_field="event_timestamp"))
             for v in spec["views"]]
    store = FeatureStore(repo_path=repo)
    store.apply([driver, *views])
    end = datetime.fromisoformat(spec["end"]).replace(tzinfo=timezone.utc)
    t0 = time.perf_counter()
    store.materialize(start_date=end - timedelta(days=30), end_date=end)
    mat_s = time.perf_counter() - t0
    refs = [f"{v['name']}:{f}" for v in spec["views"] for f in v["features"]]
    rng = random.Random(0)
    out = {"materialize_rows": spec["entities"] * len(views), "materialize_s": round(mat_s, 1),
           "materialize_rows_per_s": round(spec["entities"] * len(views) / mat_s)}
    for batch in (1, 100):
        times = []
        for i in range(spec["iterations"] + 20):
            rows = [{"driver_id": rng.randrange(spec["entities"])} for _ in range(batch)]
            t = time.perf_counter()
            store.get_online_features(features=refs, entity_rows=rows).to_dict()
            if i >= 20:
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out[f"batch{batch}"] = {"p50_ms": round(times[len(times) // 2], 3), "p99_ms": round(times[int(len(times) * 0.99)], 3)}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
