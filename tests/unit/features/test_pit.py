"""The PIT kernel against the numpy searchsorted oracle, over many seeds of adversarial data."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from raymlops.core.errors import InvalidInputError
from raymlops.features.pit import ViewInput, asof_indices, latest_indices, normalize_times, point_in_time_join, spine_from_views
from tests.unit.features.adversarial import make_case, oracle


def _view(case, ttl=None) -> ViewInput:
    tables = []
    for fi, df in enumerate(case.files):
        t = normalize_times(pa.Table.from_pandas(df, preserve_index=False), ["ts", "created"])
        t = t.append_column("pos", pa.array(fi * 1_000_000 + np.arange(len(df)), pa.int64()))
        tables.append(t)
    table = pa.concat_tables(tables, promote_options="permissive")
    return ViewInput(name="stats", table=table, join_keys=["driver_id"], timestamp_field="ts", features=["f_id", "f_tag"],
                     created_column="created", ttl=case.ttl_s, pos_column="pos")


@pytest.mark.parametrize("wide", [False, True])
def test_pit_join_matches_the_searchsorted_oracle_on_adversarial_data(wide):
    mismatches, rows, matched = 0, 0, 0
    for seed in range(150):
        case = make_case(seed, wide=wide)
        if not case.files:
            continue
        out = point_in_time_join(pa.Table.from_pandas(case.entity, preserve_index=False), [_view(case)])
        ids, tags = oracle(case)
        assert out.column("row_label").to_pylist() == list(range(len(case.entity)))  # every row, in order
        got_ids, got_tags = out.column("stats__f_id").to_pylist(), out.column("stats__f_tag").to_pylist()
        mismatches += sum(a != b for a, b in zip(got_ids, ids)) + sum(a != b for a, b in zip(got_tags, tags))
        rows += len(ids)
        matched += sum(i is not None for i in ids)
    assert mismatches == 0
    assert rows > 3000 and 0.2 * rows < matched < 0.9 * rows  # the data exercises both outcomes


def test_equal_event_times_newest_created_wins_then_later_row():
    e = asof_indices(np.array([0, 0]), np.array([10, 10]), np.array([0, 0, 0, 0]), np.array([10, 10, 10, 9]),
                     created=np.array([5, 7, 7, 99]))
    assert e.tolist() == [2, 2]  # rows 1 and 2 tie on (10, 7): the later row wins; row 3 is older


def test_ttl_boundary_is_inclusive():
    f_code, f_ts = np.array([0]), np.array([100])
    assert asof_indices(np.array([0, 0, 0]), np.array([99, 130, 131]), f_code, f_ts, ttl=30).tolist() == [-1, 0, -1]


def test_rank_path_equals_direct_path():
    rng = np.random.default_rng(1)
    e_code, f_code = rng.integers(0, 50, 500), rng.integers(0, 50, 2000)
    f_ts = rng.integers(0, 100, 2000)
    e_ts = rng.integers(-5, 105, 500)
    direct = asof_indices(e_code, e_ts, f_code, f_ts, ttl=20)
    scale = np.int64(1) << 55  # spreads times so code * span overflows int64: the rank path
    ranked = asof_indices(e_code, e_ts * scale, f_code, f_ts * scale, ttl=20 * scale)
    assert (direct == ranked).all() and (direct >= 0).sum() > 100


def test_latest_per_key():
    idx = latest_indices(np.array([1, 0, 1, 0, -1]), np.array([5, 3, 5, 9, 99]), created=np.array([2, 0, 1, 0, 0]))
    assert sorted(idx.tolist()) == [0, 3]


def test_key_type_mismatch_is_an_error():
    view = ViewInput(name="v", table=pa.table({"k": ["1"], "ts": pa.array([1], pa.timestamp("us")), "x": [1.0]}),
                     join_keys=["k"], timestamp_field="ts", features=["x"])
    entity = pa.table({"k": [1], "event_timestamp": pa.array([2], pa.timestamp("us"))})
    with pytest.raises(InvalidInputError, match="join key 'k' is string in the rows of feature view 'v' but int"):
        point_in_time_join(entity, [view])


def test_missing_timestamp_column_is_an_error():
    with pytest.raises(InvalidInputError, match="no timestamp column 'event_timestamp'"):
        point_in_time_join(pa.table({"k": [1]}), [])


def test_spine_from_views_is_distinct_keys_and_times_in_range():
    t = pa.table({"k": [1, 1, 2, 1], "ts": pa.array([5, 5, 7, 20], pa.timestamp("us")), "x": [1.0, 2.0, 3.0, 4.0]})
    v = ViewInput(name="v", table=t, join_keys=["k"], timestamp_field="ts", features=["x"])
    spine = spine_from_views([v], start=0, end=10)
    assert spine.column("k").to_pylist() == [1, 2]
    assert spine.column("event_timestamp").cast(pa.int64()).to_pylist() == [5, 7]
