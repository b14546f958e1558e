"""Training/serving skew is a drift check: served feature vectors, joined from the online
store by :class:`OnlineFeatureJoiner`, sketched like any request and judged by the model's
drift monitor against the training set's profile. A feature shifted in the online store is
flagged within two windows; an unshifted store is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from raymlops.features import MemoryOnlineStore, OnlineFeatureJoiner
from raymlops.features.online import OnlineRow
from raymlops.features.online_read import read_features
from raymlops.monitoring.live import DriftMonitor, ReplicaSketcher, reference_profile

DRIVERS = 2000
COLS = ["hourly__conv_rate", "hourly__trips"]


def _fill(store, rng, shift: float, event_us: int) -> None:
    store.write("hourly", {f"[{d}]": OnlineRow(event_us=event_us, created_us=event_us, pos=0,
                                                values={"conv_rate": float(rng.beta(4, 3) + shift), "trips": float(rng.poisson(12))})
                           for d in range(DRIVERS)})


def test_a_shifted_online_feature_is_flagged_within_two_windows():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"hourly__conv_rate": rng.beta(4, 3, 5000), "hourly__trips": rng.poisson(12, 5000).astype(float)})
    model = LogisticRegression().fit(train, (train["hourly__conv_rate"] > 0.55).astype(int))
    monitor = DriftMonitor("drivers", window_s=60, grace_s=1, min_rows=500)
    monitor.set_reference(1, reference_profile(model, train))
    store = MemoryOnlineStore()
    _fill(store, rng, 0.0, event_us=0)

    def reader(rows, now_us=None):
        return read_features(store, {"hourly": ["conv_rate", "trips"]}, {"hourly": ["driver_id"]}, {"hourly": None}, rows, now_us=now_us or 0)

    joiner = OnlineFeatureJoiner(reader, columns=COLS, service_columns=COLS, join_keys=["driver_id"])
    sketcher = ReplicaSketcher(window_s=60)

    def serve_window(w: int) -> dict:
        for i in range(10):  # 10 requests of 100 entities in the window
            rows, _ = joiner.join([{"driver_id": int(d)} for d in rng.integers(0, DRIVERS, 100)])
            frame = pd.DataFrame(rows, columns=COLS)
            sketcher.observe(frame, model.predict(frame), now=w * 60 + i)
        for window, profile in sketcher.sketch(sketcher.take()):
            monitor.ingest(1, window, profile)
        (closed,) = monitor.close_due(now=(w + 1) * 60 + 2)
        return closed

    before = [serve_window(w) for w in range(2)]
    assert not any(c["dataset_drift"] for c in before)
    assert not [a for a in monitor.pop_alerts() if a.state == "FIRING"]
    _fill(store, rng, 0.25, event_us=1)  # a broken upstream job shifts conv_rate by 0.25
    after = [serve_window(w) for w in range(2, 4)]
    fired = {a.subject for a in monitor.pop_alerts() if a.state == "FIRING"}
    assert "feature:hourly__conv_rate" in fired and "feature:hourly__trips" not in fired
    assert any(c["window"] in (2, 3) for c in after)
