"""Online = offline at T; incremental materialization that does not skip late rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from raymlops.artifacts import sha256_path
from raymlops.features import FeatureStore
from raymlops.metadata import connect
from raymlops.features.sample import START, write_driver_repo

T = START + pd.Timedelta(hours=5, minutes=30)


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory):
    return write_driver_repo(str(tmp_path_factory.mktemp("big")), drivers=12_000, hours=6, trips=10, seed=7)


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_online_values_equal_the_pit_join_at_T_for_10k_entities(ray_session, big_repo, backend, request, tmp_path):
    online = f"sqlite:///{tmp_path}/online.db" if backend == "sqlite" else request.getfixturevalue("redis_url")
    fs = FeatureStore(big_repo["repo"], settings=ray_session, online=online)
    fs.apply()
    fs.materialize(end=T.isoformat())
    rng = np.random.default_rng(0)
    drivers = rng.choice(np.arange(12_000) + 1000, size=10_000, replace=False)
    entities = pd.DataFrame({"driver_id": drivers, "event_timestamp": [T] * len(drivers)})
    out = tmp_path / "pit.parquet"
    fs.get_historical_features(entities, service="driver_model", out=str(out))
    offline = pd.read_parquet(out)
    online_r = fs.get_online_features([{"driver_id": int(d)} for d in drivers], service="driver_model", now=T.isoformat())
    cols = [c for c in offline.columns if "__" in c]
    equal = 0
    for c in cols:
        off = [None if pd.isna(v) else v for v in offline[c]]
        on = online_r.values[c]
        equal += sum(a == b for a, b in zip(off, on))
        status = online_r.status[c]
        assert all((s == "PRESENT") == (v is not None) for s, v in zip(status, on))
    assert equal == len(cols) * len(drivers)  # 100%
    nulls = offline[cols[0]].isna().sum()
    assert 0 < nulls < len(drivers)  # some drivers had no row in the TTL window: null on both sides
    assert "OUTSIDE_MAX_AGE" in online_r.status[cols[0]]


def test_incremental_materialization_lands_late_rows(ray_session, tmp_path):
    src = tmp_path / "stats"
    src.mkdir()
    t0 = pd.Timestamp("2024-05-01T00:00:00")

    def rows(keys, event_h, created_h, value):
        return pd.DataFrame({"driver_id": keys, "ts": [t0 + pd.Timedelta(hours=event_h)] * len(keys),
                             "created": [t0 + pd.Timedelta(hours=created_h)] * len(keys), "x": [float(value)] * len(keys)})

    rows([1, 2, 3], 1, 1, 10).to_parquet(src / "a.parquet", index=False)
    (tmp_path / "repo.yaml").write_text(
        "entities: [{name: driver, join_keys: [driver_id]}]\n"
        "sources: [{name: s, path: stats, timestamp_field: ts, created_timestamp_column: created}]\n"
        "feature_views: [{name: v, entities: [driver], source: s, ttl: 7d, features: [{name: x, dtype: float}]}]\n")
    fs = FeatureStore(str(tmp_path / "repo.yaml"), settings=ray_session, online=f"sqlite:///{tmp_path}/online.db")
    fs.apply()
    first = fs.materialize_incremental(end=(t0 + pd.Timedelta(hours=4)).isoformat(), lookback="0")
    assert first["views"]["v"]["rows_read"] == 3
    # After the first run: a late row for driver 2 (event at 2h, only written at 6h), a new
    # row for driver 3 (event at 5h), and a late row for driver 1 older than what it has.
    pd.concat([rows([2], 2, 6, 20), rows([3], 5, 5, 30), rows([1], 0, 6, 99)]).to_parquet(src / "b.parquet", index=False)
    second = fs.materialize_incremental(end=(t0 + pd.Timedelta(hours=8)).isoformat(), lookback="0")
    assert second["views"]["v"]["rows_read"] == 3 and second["views"]["v"]["rows_written"] == 2
    got = fs.get_online_features([{"driver_id": d} for d in (1, 2, 3)], features=["v:x"], now=(t0 + pd.Timedelta(hours=8)).isoformat())
    assert got.values["v__x"] == [10.0, 20.0, 30.0]  # the late row landed; the older late row did not win
    third = fs.materialize_incremental(end=(t0 + pd.Timedelta(hours=9)).isoformat(), lookback="0")
    assert third["views"]["v"]["rows_read"] == 0  # nothing new
    pit = tmp_path / "pit.parquet"
    fs.get_historical_features(pd.DataFrame({"driver_id": [1, 2, 3], "event_timestamp": [t0 + pd.Timedelta(hours=8)] * 3}),
                               features=["v:x"], out=str(pit))
    assert pd.read_parquet(pit)["v__x"].tolist() == got.values["v__x"]
    status = {s["view"]: s for s in fs.status()}["v"]
    assert status["online_rows"] == 3 and status["newest_event"] == "2024-05-01T05:00:00+00:00"


def test_training_set_lineage_names_the_definitions_version_and_source_hashes(ray_session, tmp_path):
    p = write_driver_repo(str(tmp_path / "repo"), drivers=10, hours=10, trips=50, seed=4)
    fs = FeatureStore(p["repo"], settings=ray_session)
    version = fs.apply()["version"]
    out = tmp_path / "train.parquet"
    r = fs.get_historical_features(p["entities"], service="driver_model", out=str(out))
    store = connect(ray_session)
    art = store.get_artifact(r["artifact_id"])
    assert art.type == "Dataset" and art.sha256 == sha256_path(str(out)) and art.properties["rows"] == 50
    assert art.properties["definition_version"] == version
    assert art.properties["sources"] == {"driver_stats": sha256_path(p["stats"]), "driver_ratings": sha256_path(p["ratings"])}
    g = store.lineage(("artifact", art.id), direction="up", hops=2)
    types = sorted(n["type"] for n in g.nodes.values())
    assert types.count("FeatureDefinitions") == 1 and "GetHistoricalFeatures" in types and types.count("Dataset") == 4
