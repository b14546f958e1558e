"""The data pipeline on a real Ray: splits, label issues with folds as Ray tasks, lineage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import ray.data

from raymlops.data import label_quality as lq
from raymlops.data.pipeline import DataPipeline
from raymlops.data.ray_ops import profile_dataset, ray_map, split_dataset
from raymlops.sketches import Profile
from raymlops.metadata import connect


def _blocks(df: pd.DataFrame, n: int):
    # ray.data.from_pandas(df, override_num_blocks=n) breaks on pandas 3 (np.array_split of a
    # DataFrame returns arrays there); pass the blocks as a list of frames instead.
    return ray.data.from_pandas([df.iloc[idx] for idx in np.array_split(np.arange(len(df)), n)])


def _splits(tmp_path, ds, tag, **kw):
    dirs = {n: str(tmp_path / tag / n) for n in ("train", "validation", "test")}
    counts = split_dataset(ds, dirs, **kw)
    out = {}
    for name, d in dirs.items():
        files = sorted((tmp_path / tag / name).glob("*.parquet"))
        for f in files:
            for i in pd.read_parquet(f)["id"]:
                out[int(i)] = name
    return counts, out


@pytest.mark.parametrize("stratify", [None, "y"])
def test_the_same_rows_land_in_the_same_split_whatever_the_block_count(ray_session, tmp_path, stratify):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"id": np.arange(6000), "x": rng.normal(size=6000), "y": rng.choice(["a", "b", "c"], 6000, p=[0.7, 0.2, 0.1])})
    c1, one = _splits(tmp_path, _blocks(df, 1), "one", key="id", stratify=stratify)
    c7, seven = _splits(
        tmp_path, _blocks(df.sample(frac=1, random_state=3), 7), "seven", key="id", stratify=stratify
    )
    assert one == seven and len(one) == 6000
    assert c1 == c7
    assert abs(c1["train"] / 6000 - 0.8) < 0.02
    if stratify:
        counts = df.assign(split=df["id"].map(one)).groupby(["y", "split"]).size().unstack()
        for cls, row in counts.iterrows():
            n = row.sum()
            assert abs(row["train"] - 0.8 * n) <= 1, (cls, row.to_dict())


def test_label_issues_on_digits_with_folds_as_ray_tasks(ray_session):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    flipped = rng.choice(len(y), size=int(0.05 * len(y)), replace=False)
    noisy = y.copy()
    noisy[flipped] = (y[flipped] + rng.integers(1, 10, size=len(flipped))) % 10
    probs = lq.out_of_fold_probabilities(X, noisy, n_folds=5, seed=0, map_fn=ray_map)
    found = set(lq.find_label_issues(noisy, probs)["row_id"])
    truth = set(flipped.tolist())
    precision = len(found & truth) / len(found)
    recall = len(found & truth) / len(truth)
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)


def test_profile_on_ray_equals_one_process_profile(ray_session):
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.lognormal(size=5000), "c": rng.choice(list("abcde"), 5000)})
    distributed = profile_dataset(_blocks(df, 6))
    local = Profile()
    local.update(df)
    assert distributed == local


def test_full_pipeline_records_lineage_from_transform_to_raw_file(ray_session, tmp_path):
    rng = np.random.default_rng(4)
    n = 600
    df = pd.DataFrame({"id": np.arange(n), "a": rng.normal(size=n), "b": rng.normal(size=n), "color": rng.choice(["r", "g"], n)})
    df["y"] = np.where(df["a"] + 0.5 * rng.normal(size=n) > 0.8, "pos", "neg")
    df.loc[7, "a"] = np.inf  # one bad row
    raw_path = tmp_path / "raw.csv"
    df.to_csv(raw_path, index=False)
    pipe = DataPipeline(ray_session, out_dir=str(tmp_path / "out"))
    res = pipe.run(str(raw_path), target="y", key="id", augment=True, select="mutual_info", k=2)
    assert res.report["rows_in"] == n
    assert sum(res.splits.values()) == res.report["rows_valid"]
    assert res.augmented and sum(res.augmented.values()) > 0
    assert res.features["features_out"] and len(res.features["features_out"]) == 2
    store = connect(ray_session)
    g = store.lineage(("artifact", res.artifacts["transform"].id), direction="up", hops=40)
    types = {n["type"] for n in g.nodes.values()}
    assert {"Transform", "FeatureTransform", "Augment", "Split", "Validate", "Schema", "Dataset", "Ingest"} <= types
    raw_nodes = [n for n in g.nodes.values() if n["uri"] == f"file://{raw_path}"]
    assert raw_nodes and raw_nodes[0]["sha256"] and raw_nodes[0]["properties"]["rows"] == n
    aug = pipe.store.get_artifact(res.artifacts["train_augmented"].id)
    assert aug.properties["augmented_rows"] == sum(res.augmented.values())
    for art in (res.artifacts["valid"], res.artifacts["split_train"], res.artifacts["quarantine"]):
        got = store.get_artifact(art.id)
        assert got.sha256 and "rows" in got.properties
