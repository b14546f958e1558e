"""Live drift monitoring, pure part: replica sketches, windows, alerts, concept drift, checkpoints, gates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from raymlops.sketches import Profile
from raymlops.core.errors import ArtifactIntegrityError, InvalidInputError
from raymlops.monitoring.live import (
    PREDICTION,
    REFERENCE_ATTACHMENT,
    DriftMonitor,
    ReplicaSketcher,
    load_reference,
    reference_attachment,
    reference_profile,
)
from raymlops.serving.gates import DriftGate
from raymlops.serving.manager import RolloutManager
from raymlops.serving.rollout import RolloutPlan

W = 10.0  # window seconds


def _frame(rng, n, x_shift=0.0):
    return pd.DataFrame({"x": rng.normal(x_shift, 1.0, n), "y": rng.normal(0.0, 1.0, n), "c": rng.choice(["a", "b", "c"], n)})


@pytest.fixture(scope="module")
def model_and_reference():
    rng = np.random.default_rng(0)
    X = _frame(rng, 5000)
    target = (X.x > 0).astype(int)  # the prediction depends on x only
    model = LogisticRegression().fit(X[["x", "y"]], target)

    class OnXY:  # the served model takes every column; it reads x and y
        def predict(self, frame):
            return model.predict(frame[["x", "y"]].fillna(0.0))

    return OnXY(), reference_profile(OnXY(), X)


def _serve_window(sketchers, model, frame, window):
    """Split ``frame`` over the replicas, as a load balancer would, inside ``window``."""
    for i, part in enumerate(np.array_split(np.arange(len(frame)), len(sketchers))):
        rows = frame.iloc[part].reset_index(drop=True)
        for batch in np.array_split(np.arange(len(rows)), 7):  # several batches per replica
            b = rows.iloc[batch].reset_index(drop=True)
            sketchers[i].observe(b, model.predict(b), now=window * W + 1.0 + i)


def test_sketches_merged_from_three_replicas_equal_one_sketch_of_the_same_rows(model_and_reference):
    model, _ = model_and_reference
    rng = np.random.default_rng(1)
    frame = _frame(rng, 3001)
    frame.loc[::97, "x"] = np.nan
    replicas = [ReplicaSketcher(window_s=W) for _ in range(3)]
    _serve_window(replicas, model, frame, window=4)
    merged = None
    for r in replicas:
        ((window, prof),) = r.sketch(r.take())
        assert window == 4
        merged = prof if merged is None else merged.merge(prof)
    one = Profile()
    one.update(frame.assign(**{PREDICTION: model.predict(frame)}))
    assert merged == one
    for col in ("x", "y", PREDICTION):  # counts exact, not just within tolerance
        a, b = merged[col], one[col]
        assert (a.count, a.nulls, a.nan) == (b.count, b.nulls, b.nan)
        assert a.to_dict()["positive"] == b.to_dict()["positive"] and a.to_dict()["negative"] == b.to_dict()["negative"]
    assert merged["c"].to_dict() == one["c"].to_dict()
    assert merged.rows == 3001


def test_sketcher_drops_and_counts_beyond_its_buffer():
    s = ReplicaSketcher(window_s=W, max_buffer_rows=10)
    s.observe(pd.DataFrame({"x": range(8)}), [0] * 8, now=0)
    s.observe(pd.DataFrame({"x": range(8)}), [0] * 8, now=0)
    assert s.dropped_rows == 8
    ((_, prof),) = s.sketch(s.take())
    assert prof.rows == 8
    with pytest.raises(InvalidInputError):
        ReplicaSketcher(window_s=0)


def _monitor(reference, **kw):
    mon = DriftMonitor("m", window_s=W, grace_s=1.0, min_rows=100, **kw)
    mon.set_reference(1, reference)
    return mon


def _run_windows(mon, model, windows, shift_from=None, replicas=3, rows=1500, seed=2):
    rng = np.random.default_rng(seed)
    results = []
    for w in range(windows):
        sketchers = [ReplicaSketcher(window_s=W) for _ in range(replicas)]
        frame = _frame(rng, rows, x_shift=2.0 if shift_from is not None and w >= shift_from else 0.0)
        _serve_window(sketchers, model, frame, window=w)
        for s in sketchers:
            for window, prof in s.sketch(s.take()):
                mon.ingest(1, window, prof)
        results += mon.close_due(now=(w + 1) * W + 1.0)
    return results


def test_unshifted_traffic_raises_no_alarm_over_five_windows(model_and_reference):
    model, ref = model_and_reference
    mon = _monitor(ref)
    results = _run_windows(mon, model, 5)
    assert [r["window"] for r in results] == [0, 1, 2, 3, 4]
    assert all(r["judged"] and not r["dataset_drift"] for r in results)
    assert not any(f["drift"] for r in results for f in r["features"]) and not any(r["prediction"]["drift"] for r in results)
    assert mon.pop_alerts() == [] and mon.drift_flag(1) is False
    tests = {f["feature"]: f["test"] for f in results[0]["features"]}
    assert tests == {"x": "wasserstein_normed", "y": "wasserstein_normed", "c": "jensenshannon_distance_ln"}


def test_a_shifted_feature_flags_that_feature_and_the_prediction_only(model_and_reference):
    model, ref = model_and_reference
    mon = _monitor(ref)
    results = _run_windows(mon, model, 6, shift_from=3)
    for r in results[:3]:
        assert not any(f["drift"] for f in r["features"]) and not r["prediction"]["drift"]
    for r in results[3:]:
        assert {f["feature"] for f in r["features"] if f["drift"]} == {"x"}
        assert r["prediction"]["drift"]  # the model reads x
    alerts = mon.pop_alerts()
    assert {(a.subject, a.state, a.window) for a in alerts} == {("feature:x", "FIRING", 3), ("prediction", "FIRING", 3)}
    assert mon.drift_flag(1) is True
    st = mon.status()["versions"]["1"]
    assert st["alerts"] == ["feature:x", "prediction"] and st["windows_closed"] == 6
    assert st["horizon"]["windows"] == 6 and st["horizon"]["features"][0]["feature"] == "x"


def test_alert_resolves_when_traffic_returns(model_and_reference):
    model, ref = model_and_reference
    mon = _monitor(ref)
    _run_windows(mon, model, 2, shift_from=0)
    fired = mon.pop_alerts()
    assert ("feature:x", "FIRING") in {(a.subject, a.state) for a in fired}
    rng = np.random.default_rng(5)
    s = ReplicaSketcher(window_s=W)
    frame = _frame(rng, 1500)
    s.observe(frame, model.predict(frame), now=2 * W + 1)
    for window, prof in s.sketch(s.take()):
        mon.ingest(1, window, prof)
    mon.close_due(now=3 * W + 1)
    assert ("feature:x", "RESOLVED") in {(a.subject, a.state) for a in mon.pop_alerts()}


def test_dataset_drift_when_half_the_features_drift(model_and_reference):
    _, ref = model_and_reference
    mon = _monitor(ref)
    rng = np.random.default_rng(3)
    frame = _frame(rng, 800, x_shift=3.0).assign(y=lambda d: d.y + 3.0)
    s = ReplicaSketcher(window_s=W)
    s.observe(frame, np.zeros(len(frame), dtype=int), now=1.0)
    for window, prof in s.sketch(s.take()):
        mon.ingest(1, window, prof)
    (res,) = mon.close_due(now=W + 1.0)
    assert res["drift_share"] == pytest.approx(2 / 3) and res["dataset_drift"]
    assert "dataset" in {a.subject for a in mon.pop_alerts()}


def test_windows_close_after_grace_and_late_or_thin_data_is_not_judged(model_and_reference):
    model, ref = model_and_reference
    mon = _monitor(ref)
    rng = np.random.default_rng(4)
    s = ReplicaSketcher(window_s=W)
    f = _frame(rng, 50)
    s.observe(f, model.predict(f), now=1.0)
    (w0,) = s.sketch(s.take())
    mon.ingest(1, *w0)
    assert mon.close_due(now=W + 0.5) == []  # within the grace period
    (res,) = mon.close_due(now=W + 1.0)
    assert res["judged"] is False and "min_rows" in res["why"]
    mon.ingest(1, *w0)  # a late flush of a closed window
    assert mon.status()["versions"]["1"]["late_rows"] == 50
    mon.ingest(2, *w0)  # a version without a reference is counted, not judged
    (res2,) = mon.close_due(now=W + 1.0)
    assert res2["version"] == 2 and res2["judged"] is False and "no reference" in res2["why"]
    assert mon.drift_flag(2) is None


def test_thin_windows_are_carried_and_judged_together_once_they_reach_min_rows(model_and_reference):
    """Thin traffic (a loaded machine, a quiet model) still gets verdicts and alerts, over a longer span."""
    model, ref = model_and_reference
    mon = _monitor(ref)  # min_rows 100
    rng = np.random.default_rng(6)
    verdicts = []
    for w in range(4):  # 40 shifted rows a window: judged every third window
        s = ReplicaSketcher(window_s=W)
        f = _frame(rng, 40, x_shift=3.0)
        s.observe(f, model.predict(f), now=w * W + 1.0)
        for window, prof in s.sketch(s.take()):
            mon.ingest(1, window, prof)
        if w == 1:  # a restart between thin windows keeps what was carried
            mon = DriftMonitor.from_dict(json.loads(json.dumps(mon.to_dict())))
        verdicts += mon.close_due(now=(w + 1) * W + 1.0)
    assert [r["judged"] for r in verdicts] == [False, False, True, False]
    assert "80 rows < min_rows 100 over 2 window(s)" in verdicts[1]["why"]
    assert verdicts[2]["rows"] == 120 and verdicts[2]["windows"] == 3 and verdicts[2]["span_start"] == 0.0 and verdicts[2]["start"] == 2 * W
    assert {f["feature"] for f in verdicts[2]["features"] if f["drift"]} == {"x"}
    assert ("feature:x", "FIRING", 2) in {(a.subject, a.state, a.window) for a in mon.pop_alerts()}
    assert mon.status()["versions"]["1"]["windows_judged"] == 1


def test_carried_windows_older_than_the_horizon_drop_out(model_and_reference):
    model, ref = model_and_reference
    mon = DriftMonitor("m", window_s=W, grace_s=1.0, min_rows=100, horizon_windows=2)
    mon.set_reference(1, ref)
    rng = np.random.default_rng(7)
    out = []
    for w in (0, 5, 6):  # window 0 is too old to count with 5 and 6 (horizon of 2 windows)
        s = ReplicaSketcher(window_s=W)
        f = _frame(rng, 60)
        s.observe(f, model.predict(f), now=w * W + 1.0)
        for window, prof in s.sketch(s.take()):
            mon.ingest(1, window, prof)
        out += mon.close_due(now=(w + 1) * W + 1.0)
    assert [r["judged"] for r in out] == [False, False, True]
    assert out[2]["rows"] == 120 and out[2]["windows"] == 2


def test_concept_drift_alerts_after_the_change_and_not_before():
    rng = np.random.default_rng(11)
    change = 1500
    x = rng.normal(size=3000)
    truth = np.where(np.arange(3000) < change, x > 0, x < 0.8)  # the labelling function changes
    errors = ((x > 0) != truth).astype(float)  # the model keeps the old concept
    for detector in ("adwin", "ddm", "page_hinkley"):
        mon = DriftMonitor("m", detector=detector)
        fired_at = None
        for start in range(0, 3000, 50):  # feedback arrives in chunks
            mon.feedback(1, errors[start : start + 50], now=float(start))
            alerts = mon.pop_alerts()
            if alerts and fired_at is None:
                assert alerts[0].subject == "concept" and alerts[0].state == "FIRING"
                fired_at = start + 50
        assert fired_at is not None and change < fired_at <= change + 600, (detector, fired_at)
        st = mon.status()["versions"]["1"]["concept_drift"]
        assert st["drift"] and st["detector"] == detector and st["labels"] == 3000
        assert min(st["detections"]) >= change


def test_checkpoint_restores_and_continues(model_and_reference):
    model, ref = model_and_reference
    mon = _monitor(ref)
    _run_windows(mon, model, 3, shift_from=2)
    mon.feedback(1, [0, 1, 0, 0])
    rng = np.random.default_rng(9)
    s = ReplicaSketcher(window_s=W)
    f = _frame(rng, 300)
    s.observe(f, model.predict(f), now=3 * W + 2)
    for window, prof in s.sketch(s.take()):
        mon.ingest(1, window, prof)  # an open window at checkpoint time
    saved = json.loads(json.dumps(mon.to_dict(), allow_nan=False))
    back = DriftMonitor.from_dict(saved)
    assert back.status() == mon.status()
    a, b = mon.close_due(now=4 * W + 1), back.close_due(now=4 * W + 1)
    assert a == b and a[0]["rows"] == 300
    assert back.status()["versions"]["1"]["alerts"] == mon.status()["versions"]["1"]["alerts"]
    with pytest.raises(InvalidInputError):
        DriftMonitor.from_dict({"format": "nope"})


def test_tfdv_preset_names_its_divergences(model_and_reference):
    model, ref = model_and_reference
    mon = _monitor(ref, preset="tfdv")
    (res, *_) = _run_windows(mon, model, 1)
    tests = {f["feature"]: f["test"] for f in res["features"]}
    assert tests == {"x": "jensenshannon_divergence_base2", "y": "jensenshannon_divergence_base2", "c": "linf"}


def test_reference_profile_is_stored_with_the_version_and_hash_checked(registry, model_and_reference):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=200), "y": rng.normal(size=200)})
    model = LogisticRegression().fit(X, (X.x > 0).astype(int))
    rec = registry.register(model, "refd", input_example=X.head(), attachments=reference_attachment(model, X))
    assert rec["metadata"]["attachments"][REFERENCE_ATTACHMENT]["bytes"] > 0
    prof = load_reference(registry, "refd@1")
    want = Profile()
    want.update(X.assign(**{PREDICTION: model.predict(X)}))
    assert prof == want and prof.rows == 200 and set(prof.columns) == {"x", "y", PREDICTION}
    assert load_reference(registry, registry.register(model, "refd", input_example=X.head())["name"] + "@2") is None
    path = registry.blobs.path(rec["metadata"]["attachments"][REFERENCE_ATTACHMENT]["sha256"])
    with open(path, "r+b") as fh:
        fh.seek(5)
        fh.write(b"X")
    with pytest.raises(ArtifactIntegrityError):
        load_reference(registry, "refd@1")
    with pytest.raises(InvalidInputError, match="prediction"):
        reference_profile(model, X.assign(prediction=1))


def _manager_with_canary(gates):
    m = RolloutManager(gate_interval_s=1.0)
    m.serve("m", 1, now=0.0)
    plan = RolloutPlan(model="m", strategy="canary", from_version=1, to_version=2, steps=(20, 100), bake_s=5, gates=gates)
    m.start(plan, now=0.0)
    m.mark_ready("m", now=0.0)
    return m


def test_rollout_gates_on_the_canarys_drift_flag():
    m = _manager_with_canary([DriftGate()])
    assert m.drift_targets() == {"m": 2}
    m.tick(2.0, drift={"m": None})  # no verdict yet: holds
    assert m.status("m")["state"] == "RUNNING"
    (name, rec), *_ = m.tick(4.0, drift={"m": True})
    assert name == "m" and rec.action == "rollback"
    assert m.status("m")["state"] == "ROLLED_BACK" and m.drift_targets() == {}
    ok = _manager_with_canary([DriftGate()])
    for t in range(2, 20, 2):
        ok.tick(float(t), drift={"m": False})
    assert ok.status("m")["state"] == "PROMOTED"


def test_a_feature_can_be_judged_by_another_test(model_and_reference):
    model, ref = model_and_reference
    mon = _monitor(ref, tests={"x": "psi", "prediction": "linf"})
    (res, *_) = _run_windows(mon, model, 1)
    tests = {f["feature"]: f["test"] for f in res["features"]}
    assert tests["x"] == "psi" and tests["y"] == "wasserstein_normed" and res["prediction"]["test"] == "linf"
    assert DriftMonitor.from_dict(json.loads(json.dumps(mon.to_dict()))).tests == {"x": "psi", "prediction": "linf"}
