"""Reading online features: TTL enforced on read, statuses, key types; materialization windows."""

from __future__ import annotations

import pytest

from raymlops.core.errors import InvalidInputError
from raymlops.features import MemoryOnlineStore
from raymlops.features.materialize import next_state, plan_window
from raymlops.features.online import OnlineRow
from raymlops.features.online_read import read_features
from raymlops.features.times import to_us

SEL, KEYS = {"v": ["x", "y"]}, {"v": ["driver_id"]}


def test_an_expired_value_is_null_and_outside_max_age_feast_6821():
    """feast-dev/feast#6821: a 1 s TTL returned a 17-minute-old value as PRESENT."""
    store = MemoryOnlineStore()
    written = to_us("2024-05-01T12:00:00")
    store.write("v", {"[5]": OnlineRow(event_us=written, created_us=written, pos=0, values={"x": 1.0, "y": "a"})})
    later = written + 17 * 60 * 1_000_000
    r = read_features(store, SEL, KEYS, {"v": 1}, [{"driver_id": 5}], now_us=later)
    assert r.to_dict(0) == {"features": {"v__x": None, "v__y": None}, "status": {"v__x": "OUTSIDE_MAX_AGE", "v__y": "OUTSIDE_MAX_AGE"}}
    fresh = read_features(store, SEL, KEYS, {"v": 1}, [{"driver_id": 5}], now_us=written + 1_000_000)  # exactly 1 s: still valid
    assert fresh.to_dict(0)["status"] == {"v__x": "PRESENT", "v__y": "PRESENT"}
    no_ttl = read_features(store, SEL, KEYS, {"v": None}, [{"driver_id": 5}], now_us=later)
    assert no_ttl.to_dict(0)["features"] == {"v__x": 1.0, "v__y": "a"}


def test_statuses_per_row_and_key_coercion():
    store = MemoryOnlineStore()
    store.write("v", {"[5]": OnlineRow(event_us=0, created_us=0, pos=0, values={"x": 2.0})})
    r = read_features(store, SEL, KEYS, {"v": None}, [{"driver_id": "5"}, {"driver_id": 6}], now_us=1, key_types={"v": {"driver_id": "int"}})
    assert r.status["v__x"] == ["PRESENT", "NOT_FOUND"] and r.values["v__x"] == [2.0, None]
    assert r.status["v__y"] == ["NOT_FOUND", "NOT_FOUND"]  # a feature the stored row does not have
    with pytest.raises(InvalidInputError, match="join key 'driver_id' must be an integer, got 'five'"):
        read_features(store, SEL, KEYS, {"v": None}, [{"driver_id": "five"}], now_us=1, key_types={"v": {"driver_id": "int"}})
    with pytest.raises(InvalidInputError, match="lacks join key 'driver_id'"):
        read_features(store, SEL, KEYS, {"v": None}, [{"id": 5}], now_us=1)


def test_incremental_window_takes_late_rows_by_created_time():
    first, _ = plan_window(None, end_us=100, incremental=True, lookback_s=0, has_created=True)
    state = next_state(None, first, end_us=100, newest_event_us=100, newest_created_us=120, rows=5, written=5, now_us=130)
    w, _ = plan_window(state, end_us=200, incremental=True, lookback_s=0, has_created=True)
    import numpy as np

    ts = np.array([50, 150, 90, 210, 60])  # late row (event 50, created 125), new row, old row, future row, late but old created
    created = np.array([125, 160, 95, 215, 110])
    assert w.mask(ts, created).tolist() == [True, True, False, False, False]
    w2, _ = plan_window(state, end_us=200, incremental=True, lookback_s=20 / 1e6 * 0 + 0, has_created=False)
    assert w2.mask(ts, None).tolist() == [False, True, False, False, False]  # event time only: the late row is missed
    w3, _ = plan_window(state, end_us=200, start_us=None, incremental=False)
    assert w3.mask(ts, created).tolist() == [True, True, True, False, True]


def test_lookback_reaches_rows_created_just_before_the_watermark():
    state = {"end_us": 100, "created_watermark_us": 10_000_000}
    w, _ = plan_window(state, end_us=200, incremental=True, lookback_s=5, has_created=True)
    import numpy as np

    assert w.mask(np.array([50, 50]), np.array([5_000_001, 4_999_999])).tolist() == [True, False]


def test_start_after_end_is_refused():
    with pytest.raises(InvalidInputError, match="is after --end"):
        plan_window(None, end_us=1, start_us=2)
