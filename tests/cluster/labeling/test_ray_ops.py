"""The Ray shell equals the pure core: EM over Ray Data shards, LFs with map_batches, pool scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import ray

from raymlops.labeling import DawidSkene, LabelingFunctionError, apply_lfs, lfs_from_source
from raymlops.labeling.ray_ops import apply_lfs_dataset, fit_dawid_skene_dataset, score_pool
from raymlops.labeling.simulate import simulate_crowd


def test_dawid_skene_on_ray_data_shards_equals_one_process(ray_session):
    c = simulate_crowd(n_tasks=1500, n_workers=80, n_classes=3, seed=4)
    one = DawidSkene(max_iter=3).fit(c.annotations, c.gold, sme=c.smes).result()
    ds = ray.data.from_pandas(c.annotations).repartition(3)
    shards = fit_dawid_skene_dataset(ds, DawidSkene(max_iter=3), gold=c.gold, sme=c.smes, n_shards=4).result()
    a, b = one.tasks.set_index("task").sort_index(), shards.tasks.set_index("task").sort_index()
    proba = [f"proba_{k}" for k in range(3)]
    assert a.index.equals(b.index)
    np.testing.assert_allclose(b[proba].to_numpy(), a[proba].to_numpy(), atol=1e-6)
    assert (a["n_labels"] == b["n_labels"]).all() and (a["gold"] == b["gold"]).all()
    wa, wb = one.workers.set_index("worker").sort_index(), shards.workers.set_index("worker").sort_index()
    np.testing.assert_allclose(wb["accuracy"], wa["accuracy"], atol=1e-6)
    np.testing.assert_allclose(np.array(wb["confusion"].tolist()), np.array(wa["confusion"].tolist()), atol=1e-6)
    assert (one.iterations, one.gold) == (shards.iterations, shards.gold)


SOURCE = """
from raymlops.labeling import labeling_function
@labeling_function()
def big(df):
    return (df["x"] > 1).astype(int) * 2 - 1
@labeling_function()
def small(row):
    return 0 if row["x"] < -1 else -1
"""


def test_labeling_functions_on_ray_data_equal_in_process(ray_session):
    df = pd.DataFrame({"id": np.arange(5000), "x": np.random.default_rng(0).normal(size=5000)})
    lfset = lfs_from_source(SOURCE, "lfs.py")
    local = apply_lfs(df, lfset, key="id")
    on_ray = apply_lfs_dataset(ray.data.from_pandas(df).repartition(4), lfset, key="id", batch_size=700)
    assert (on_ray.csr != local.csr).nnz == 0
    assert on_ray.keys.tolist() == local.keys.tolist()


def test_a_failing_lf_on_ray_names_the_function_and_row(ray_session):
    df = pd.DataFrame({"id": [1, 2, 3], "x": [0.0, 2.0, None]})
    src = "from raymlops.labeling import labeling_function\n@labeling_function()\ndef bad(row):\n    return int(row['x'] // 1)\n"
    with pytest.raises(LabelingFunctionError, match=r"'bad' raised ValueError.* on row 2 \(id=3\)"):
        apply_lfs_dataset(ray.data.from_pandas(df), lfs_from_source(src, "lfs.py"), key="id")


def test_pool_scoring_keeps_the_order_and_the_keys(ray_session):
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame({"a": np.arange(3000.0), "b": np.sin(np.arange(3000.0))})
    model = LogisticRegression().fit(X, (X["a"] > 1500).astype(int))
    pool = X.assign(key=[f"k{i}" for i in range(3000)])
    keys, proba, emb = score_pool(ray.data.from_pandas(pool).repartition(5), model, key="key", embed=True, batch_size=333)
    assert keys.tolist() == pool["key"].tolist()
    np.testing.assert_allclose(proba, model.predict_proba(X))
    assert emb.shape == (3000, 2)
