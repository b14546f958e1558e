"""The PIT join on Ray Data against the numpy searchsorted oracle: shuffle and broadcast paths.

Many seeds of adversarial data run in one join: each seed's keys are offset so seeds
never meet, each seed's feature rows are split over several Parquet files (naive and
tz-aware), the entity rows over several files too, and seeds are grouped by TTL into
one view per TTL.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from raymlops.features import FeatureStore
from tests.unit.features.adversarial import make_case, oracle

SEEDS = range(40)
TTLS = {None: "0", 60: "1m", 3600: "1h", 7 * 86_400: "7d"}


@pytest.fixture(scope="module")
def adversarial_repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("adv")
    cases, entities = {}, []
    for seed in SEEDS:
        case = make_case(seed, wide=seed % 5 == 0)
        if not case.files:
            continue
        off = seed * 100
        for fi, df in enumerate(case.files):
            df = df.copy()
            df["driver_id"] = df["driver_id"] + off
            folder = root / f"ttl_{TTLS[case.ttl_s]}"
            folder.mkdir(exist_ok=True)
            df.to_parquet(folder / f"{seed:03d}_{fi}.parquet", index=False)
            case.files[fi] = df
        e = case.entity.copy()
        e["driver_id"] = e["driver_id"] + off
        e["seed"] = seed
        case.entity = e
        entities.append(e)
        cases[seed] = case
    ent = pd.concat(entities, ignore_index=True)
    ent["row_label"] = np.arange(len(ent))
    (root / "entities").mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(ent)), 4)):  # entity rows split over files
        ent.iloc[part].to_parquet(root / "entities" / f"part-{i}.parquet", index=False)
    repo = {"entities": [{"name": "driver", "join_keys": ["driver_id"]}], "sources": [], "feature_views": []}
    for ttl, text in TTLS.items():
        if not (root / f"ttl_{text}").exists():
            continue
        repo["sources"].append({"name": f"s{text}", "path": f"ttl_{text}", "timestamp_field": "ts", "created_timestamp_column": "created"})
        repo["feature_views"].append({"name": f"v{text}", "entities": ["driver"], "source": f"s{text}", "ttl": text,
                                      "features": [{"name": "f_id", "dtype": "float"}, {"name": "f_tag", "dtype": "string"}]})
    (root / "repo.yaml").write_text(yaml.safe_dump(repo))
    return root, cases, ent


@pytest.mark.parametrize("path", ["shuffle", "broadcast"])
def test_ray_pit_join_matches_the_oracle(ray_session, adversarial_repo, path):
    root, cases, ent = adversarial_repo
    fs = FeatureStore(str(root / "repo.yaml"), settings=ray_session)
    fs.apply()
    views = [v.name for v in fs.repo.feature_views]
    out = root / f"out-{path}.parquet"
    r = fs.get_historical_features(str(root / "entities"), features=[f"{v}:{f}" for v in views for f in ("f_id", "f_tag")], out=str(out),
                                   broadcast_bytes=0 if path == "shuffle" else 1 << 30, partitions=3 if path == "shuffle" else None)
    assert r["join"] == path
    got = pd.read_parquet(out)
    assert got["row_label"].tolist() == list(range(len(ent)))  # every entity row, in order, duplicates included
    mismatches, matched = 0, 0
    for seed, case in cases.items():
        rows = got[got["seed"] == seed]
        ids, tags = oracle(case)
        view = f"v{TTLS[case.ttl_s]}"
        got_ids = [None if pd.isna(x) else float(x) for x in rows[f"{view}__f_id"]]
        got_tags = [None if pd.isna(x) else x for x in rows[f"{view}__f_tag"]]
        mismatches += sum(a != b for a, b in zip(got_ids, ids)) + sum(a != b for a, b in zip(got_tags, tags))
        matched += sum(i is not None for i in ids)
        others = [c for c in got.columns if c.endswith("__f_id") and not c.startswith(view + "__")]
        assert rows[others].isna().all().all()  # seeds never meet another seed's keys
    assert mismatches == 0 and matched > 300
