"""The ``labels`` step: crowd labels aggregated by annotator reliability become the target
of the rows they label, inside a pipeline whose cache follows the annotation file's content."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from raymlops.core.errors import InvalidInputError
from raymlops.metadata import MetadataStore
from raymlops.labeling.simulate import simulate_crowd
from raymlops.pipelines import Pipeline, build_retrain, step
from raymlops.pipelines.scheduler import LocalBackend, drive
from raymlops.pipelines.steps import STEPS
from raymlops.pipelines.steps.labels import labelled


def _crowd(seed: int = 0):
    crowd = simulate_crowd(n_tasks=600, n_workers=40, n_classes=2, spammer_share=0.3, accuracy_range=(0.75, 0.95), seed=seed)
    data = pd.DataFrame({"id": np.arange(600), "x": np.random.default_rng(seed).normal(size=600)})
    return crowd, data


def test_reliability_weighted_labels_beat_majority_vote_and_gold_is_used():
    crowd, data = _crowd()
    truth = crowd.truth.to_numpy()
    ds, info, workers = labelled(data, crowd.annotations, key="id", target="y", gold=crowd.gold, method="ds")
    mv, _, _ = labelled(data, crowd.annotations, key="id", target="y", method="mv")
    acc = lambda df: float((df["y"].to_numpy() == truth[df["id"].to_numpy()]).mean())  # noqa: E731
    assert acc(ds) > acc(mv), (acc(ds), acc(mv))
    assert info["gold"]["tasks"] == len(crowd.gold)
    gold = crowd.gold.set_index("task")["label"]
    assert (ds.set_index("id").loc[gold.index, "y"] == gold).all()  # gold fixes its tasks
    flagged = set(workers.loc[workers["spammer"], "worker"])
    spammers = set(crowd.workers[crowd.spammers])
    assert len(flagged & spammers) >= 0.8 * len(flagged) and len(flagged & spammers) >= 0.6 * len(spammers), (flagged, spammers)
    assert list(ds.columns) == ["id", "x", "y"] and info["rows"] + info["unlabelled_rows"] == len(data)


def test_low_confidence_and_unlabelled_rows_are_left_out_and_counted():
    crowd, data = _crowd()
    extra = pd.DataFrame({"id": [10_000, 10_001], "x": [0.0, 1.0]})  # nobody labelled these
    out, info, _ = labelled(pd.concat([data, extra]), crowd.annotations, key="id", target="y", min_confidence=0.99)
    assert info["unlabelled_rows"] == 2 + info["low_confidence_tasks"] - (600 - crowd.annotations["task"].nunique())
    assert info["low_confidence_tasks"] > 0 and info["rows"] == len(out) < len(data)
    assert not out["id"].isin([10_000, 10_001]).any()


def test_a_missing_key_or_bad_confidence_is_a_clear_error():
    crowd, data = _crowd()
    with pytest.raises(InvalidInputError, match="no key column 'rid'.*label_key"):
        labelled(data, crowd.annotations, key="rid", target="y")
    with pytest.raises(InvalidInputError, match="min_confidence"):
        labelled(data, crowd.annotations, key="id", target="y", min_confidence=1.5)


def test_retrain_with_annotations_puts_labels_between_merge_and_validate(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "day1.csv").write_text("id,x\n1,0.5\n2,0.7\n")
    (tmp_path / "ann.csv").write_text("task,worker,label\n1,a,0\n2,a,1\n")
    p = build_retrain({"data": str(tmp_path / "d"), "target": "y", "name": "m", "annotations": str(tmp_path / "ann.csv"), "label_key": "id", "sme": "a"})
    assert p.order.index("merge") < p.order.index("labels") < p.order.index("validate")
    assert p.steps["validate"].input_map["dataset"] == "labelled"
    assert p.steps["labels"].params["sme"] == ["a"]
    assert "labels" not in build_retrain({"data": str(tmp_path / "d"), "target": "y", "name": "m"}).order
    with pytest.raises(InvalidInputError, match="label_key"):
        build_retrain({"data": str(tmp_path / "d"), "target": "y", "name": "m", "annotations": str(tmp_path / "ann.csv")})


def test_in_a_pipeline_new_annotations_rerun_labels_and_the_same_ones_hit(tmp_path):
    crowd, data = _crowd()
    data_path, ann_path = tmp_path / "data.parquet", tmp_path / "ann.csv"
    data.to_parquet(data_path, index=False)
    crowd.annotations.to_csv(ann_path, index=False)

    @step(outputs=["dataset"], files=["path"])
    def load(ctx, path: str):
        pd.read_parquet(path).to_parquet(ctx.output("dataset") / "part-0.parquet", index=False)

    pipe = Pipeline("label-test", [load, STEPS["labels"].options(params={"target": "y", "key": "id", "method": "ds"})])
    store = MetadataStore(f"sqlite:///{tmp_path}/metadata.db")
    run = lambda: drive(pipe, {"path": str(data_path), "annotations": str(ann_path)}, store=store, home=str(tmp_path), backend=LocalBackend())  # noqa: E731
    first = run()
    assert first.state == "COMPLETE", [s.to_dict() for s in first.steps]
    assert first.step("labels").status == "executed" and first.step("labels").result["rows"] > 0
    assert run().step("labels").status == "cached"
    flipped = crowd.annotations.assign(label=1 - crowd.annotations["label"])  # every label changed
    flipped.to_csv(ann_path, index=False)
    third = run()
    assert third.step("load").status == "cached" and third.step("labels").status == "executed"
    store.close()
