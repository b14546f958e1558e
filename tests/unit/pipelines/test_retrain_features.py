"""The data steps of retrain leave out the columns the Trainer leaves out (a row id, a
constant, the key), unless ``keep`` makes them features, as ``raymlops train --keep-column``."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from raymlops.core.errors import InvalidInputError
from raymlops.data.schema import infer_schema
from raymlops.pipelines import build_retrain
from raymlops.pipelines.step import ArtifactRef, StepContext
from raymlops.pipelines.steps import STEPS
from raymlops.pipelines.steps.features import TRANSFORM_FILE


def _frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"row_id": np.arange(n), "x": rng.normal(size=n), "z": rng.normal(size=n), "y": rng.integers(0, 2, n)})


def _fit_features(tmp_path, keep: list[str]) -> list[str]:
    """Run the ``features`` step's function on a tiny split; the columns its transform reads."""
    df = _frame()
    schema = infer_schema(df, label="y")
    assert "row_id" in schema.not_features(), schema.not_features()  # unique ints per row: a row id
    (tmp_path / "schema").mkdir(exist_ok=True)
    schema.save(tmp_path / "schema" / "schema.json")
    (tmp_path / "train").mkdir(exist_ok=True)
    df.to_parquet(tmp_path / "train" / "part-0.parquet", index=False)
    stage = tmp_path / f"stage-{'-'.join(keep) or 'none'}"
    ctx = StepContext(run_id="r", step="features", stage_dir=str(stage), outputs=["transform"])
    refs = {n: ArtifactRef(name=n, path=str(tmp_path / n), sha256="0" * 64) for n in ("train", "schema")}
    STEPS["features"].fn(ctx, refs["train"], refs["schema"], target="y", keep=keep)
    with open(stage / "transform" / TRANSFORM_FILE, "rb") as f:
        transform = pickle.load(f)  # noqa: S301 - written just above
    return [str(c) for c in transform.feature_names_in_]


def test_a_row_id_is_not_a_feature_unless_kept(tmp_path):
    assert sorted(_fit_features(tmp_path, [])) == ["x", "z"]
    assert sorted(_fit_features(tmp_path, ["row_id"])) == ["row_id", "x", "z"]


def test_keeping_an_unknown_column_is_an_error(tmp_path):
    with pytest.raises(InvalidInputError, match="cannot keep"):
        _fit_features(tmp_path, ["nope"])


def test_retrain_passes_keep_to_the_steps_that_choose_features(tmp_path):
    (tmp_path / "day1.csv").write_text("row_id,x,y\n1,0.5,0\n2,0.7,1\n")
    p = build_retrain({"data": str(tmp_path), "target": "y", "name": "m", "keep": "row_id", "min_slice": 0.5})
    assert p.steps["features"].params["keep"] == ["row_id"] and p.steps["train"].params["keep"] == ["row_id"]
    assert p.steps["evaluate"].params["min_slice"] == 0.5
