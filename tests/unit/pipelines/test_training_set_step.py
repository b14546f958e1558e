"""The ``training_set`` step: a point-in-time training set from a feature repository, in the
step's process for small inputs (no Ray), every source in its cache key."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.features.sample import write_driver_repo
from raymlops.pipelines.step import StepContext
from raymlops.pipelines.steps import STEPS
from raymlops.pipelines.steps.training_set import OUTPUT_FILE


@pytest.fixture
def repo(tmp_path):
    return write_driver_repo(str(tmp_path / "repo"), drivers=8, hours=12, trips=60, seed=5)


def _run(tmp_path, repo, sources, **params):
    settings = Settings.resolve(home=tmp_path / "home", env={})
    ctx = StepContext(run_id="r", step="training_set", stage_dir=str(tmp_path / "stage"), outputs=["training_set"],
                      settings=settings.model_dump())
    out = STEPS["training_set"].fn(ctx, repo["repo"], repo["entities"], sources, **params)
    return out, pd.read_parquet(tmp_path / "stage" / "training_set" / OUTPUT_FILE)


def _as_of(stats: pd.DataFrame, driver: int, t: pd.Timestamp, ttl: pd.Timedelta) -> float:
    """The oracle: the driver's newest row in [t - ttl, t], ties by created time then source order."""
    rows = stats[(stats.driver_id == driver) & (stats.event_timestamp <= t) & (stats.event_timestamp >= t - ttl)]
    if rows.empty:
        return np.nan
    rows = rows.assign(pos=rows.index).sort_values(["event_timestamp", "created", "pos"])
    return float(rows.conv_rate.iloc[-1])


def test_the_step_writes_every_entity_row_in_order_with_features_as_of_its_time(tmp_path, repo):
    out, train = _run(tmp_path, repo, [repo["stats"], repo["ratings"]], service="driver_model")
    trips = pd.read_parquet(repo["entities"])
    assert out["rows"] == len(trips) == len(train) and out["join"] == "local" and out["definition_version"] == 1
    assert train.driver_id.tolist() == trips.driver_id.tolist()
    assert (train.event_timestamp.dt.tz_localize(None) == trips.event_timestamp).all()
    assert list(train.columns[3:]) == ["driver_hourly__conv_rate", "driver_hourly__acc_rate", "driver_hourly__avg_daily_trips", "driver_daily__rating"]
    stats = pd.read_parquet(repo["stats"])
    expected = [_as_of(stats, d, t, pd.Timedelta(hours=2)) for d, t in zip(trips.driver_id, trips.event_timestamp)]
    np.testing.assert_array_equal(train.driver_hourly__conv_rate.to_numpy(), np.array(expected))
    assert train.driver_hourly__conv_rate.isna().any() and train.driver_hourly__conv_rate.notna().any()  # both cases met


def test_the_step_refuses_a_source_list_that_leaves_one_out(tmp_path, repo):
    with pytest.raises(InvalidInputError, match="driver_ratings.csv, which sources= does not list"):
        _run(tmp_path, repo, [repo["stats"]], service="driver_model")
    out, train = _run(tmp_path, repo, [repo["stats"]], features=["driver_hourly:conv_rate"])  # only the hourly stats are read
    assert list(train.columns) == ["driver_id", "event_timestamp", "completed", "driver_hourly__conv_rate"]


def test_the_repository_entities_and_sources_are_all_in_the_cache_key():
    assert STEPS["training_set"].spec.files == ("repo", "entities", "sources")
    assert STEPS["training_set"].spec.output_type("training_set") == "Dataset"
