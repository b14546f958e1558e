"""A model bound to a feature service, served by entity key on a real Ray Serve over real HTTP,
with a real redis-server as the online store: the join, request-time overrides, 422s that
name the field, training/serving skew flagged by the live monitor, and the freshness metric
read back from Ray's metrics agent."""

from __future__ import annotations

import re
import socket
import time

import numpy as np
import pandas as pd
import pytest
import ray
import requests
from ray import serve
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

from raymlops.features import FeatureStore
from raymlops.features.binding import load_binding
from raymlops.features.online import OnlineRow, encode_key
from raymlops.features.times import now_us
from raymlops.metadata import connect
from raymlops.monitoring.actor import get_monitor
from raymlops.monitoring.live import reference_attachment
from raymlops.registry import ModelRegistry
from raymlops.serving.app import deploy
from raymlops.serving.controller_actor import get_controller

DRIVERS = 2000
MODEL = "tips-by-driver"
WINDOW_S = 2.0
FEATURES = ["stats__conv_rate", "stats__trips", "profile__rating"]

REPO = """\
entities:
  - {name: driver, join_keys: [driver_id]}
sources:
  - {name: stats_src, path: stats.parquet, timestamp_field: event_timestamp, created_timestamp_column: created}
  - {name: profile_src, path: profile.parquet, timestamp_field: event_timestamp}
feature_views:
  - name: stats
    entities: [driver]
    source: stats_src
    ttl: 2h
    features: [{name: conv_rate, dtype: float}, {name: trips, dtype: int}]
  - name: profile
    entities: [driver]
    source: profile_src
    ttl: 0
    features: [{name: rating, dtype: float}]
services:
  - {name: tips, features: ["stats:conv_rate", "stats:trips", "profile:rating"]}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_repo(folder, rng) -> tuple[str, pd.DataFrame]:
    """Stationary driver stats over the last 3 hours (fresh now), a profile, and trips with a tip to predict."""
    now = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("s")
    rows = []
    for h in range(3, 0, -1):  # hours ago
        ts = now - pd.Timedelta(hours=h) + pd.to_timedelta(rng.integers(0, 3000, DRIVERS), unit="s")
        rows.append(pd.DataFrame({"driver_id": np.arange(DRIVERS), "event_timestamp": ts, "created": ts + pd.Timedelta(seconds=5),
                                  "conv_rate": rng.beta(4, 3, DRIVERS), "trips": rng.poisson(12, DRIVERS)}))
    stats = pd.concat(rows, ignore_index=True)
    stats.to_parquet(folder / "stats.parquet", index=False)
    pd.DataFrame({"driver_id": np.arange(DRIVERS), "event_timestamp": now - pd.Timedelta(days=1),
                  "rating": rng.uniform(3, 5, DRIVERS).round(2)}).to_parquet(folder / "profile.parquet", index=False)
    trips = pd.DataFrame({"driver_id": rng.integers(0, DRIVERS, 4000),
                          "event_timestamp": now - pd.to_timedelta(rng.integers(0, 2 * 3600, 4000), unit="s")})
    (folder / "repo.yaml").write_text(REPO)
    return str(folder / "repo.yaml"), trips


@pytest.fixture(scope="module")
def served(ray_session, redis_url, tmp_path_factory):
    """Train on a point-in-time training set, materialize into Redis, bind, serve with a live monitor."""
    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("tips")
    repo, trips = _write_repo(folder, rng)
    fs = FeatureStore(repo, settings=ray_session, online=redis_url)
    fs.apply()
    fs.get_historical_features(trips, service="tips", out=str(folder / "train.parquet"))
    train = pd.read_parquet(folder / "train.parquet")
    X = train[FEATURES]
    y = 10 * X["stats__conv_rate"].fillna(0.5) + 0.1 * X["stats__trips"].fillna(12) + rng.normal(0, 0.1, len(X))
    model = make_pipeline(SimpleImputer(), LinearRegression()).fit(X, y)
    reg = ModelRegistry.connect(ray_session)
    version = reg.register(model, MODEL, input_example=X.head(), attachments=reference_attachment(model, X))["version"]
    fs.materialize(end=pd.Timestamp.now(tz="UTC").isoformat())
    fs.bind_model(f"{MODEL}@{version}", service="tips")
    url = deploy(ray_session, port=_free_port(), gate_interval_s=5.0)
    ctl = get_controller(ray_session)
    mon = {"window_s": WINDOW_S, "flush_s": 0.3, "min_rows": 1000, "grace_s": 1.0}
    ray.get(ctl.serve_models.remote([{"model": MODEL, "version": version, "monitoring": mon}]))
    deadline = time.time() + 60
    while requests.get(f"{url}/v1/healthz").json()["models"] != [MODEL]:
        assert time.time() < deadline, "the model was not served in time"
        time.sleep(0.2)
    yield {"url": url, "fs": fs, "model": model, "version": version, "settings": ray_session, "redis": redis_url}
    serve.shutdown()
    ray.kill(ctl)


def _predict(url: str, instances: list[dict]) -> requests.Response:
    return requests.post(f"{url}/v1/models/{MODEL}:predict", json={"instances": instances}, timeout=10)


def _expected(served, instances: list[dict]) -> list[float]:
    """What the model predicts on the features the store holds now (read in this process), request values first."""
    online = served["fs"].get_online_features([{"driver_id": i["driver_id"]} for i in instances], service="tips")
    rows = [{c: inst.get(c, online.values[c][n]) for c in FEATURES} for n, inst in enumerate(instances)]
    frame = pd.DataFrame(rows, columns=FEATURES).astype(float)
    return served["model"].predict(frame).tolist()


def test_the_binding_names_the_service_its_features_and_the_redis_store(served):
    b = load_binding(ModelRegistry.connect(served["settings"]), f"{MODEL}@{served['version']}")
    assert b.service == "tips" and b.columns == FEATURES and b.entity_keys == ["driver_id"]
    assert b.online == served["redis"] and b.ttls == {"stats": 7200, "profile": None}


def test_a_request_by_entity_key_is_joined_with_the_online_features(served):
    instances = [{"driver_id": 5}, {"driver_id": 17}, {"driver_id": 5}]
    r = _predict(served["url"], instances)
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == pytest.approx(_expected(served, instances), rel=1e-9)
    assert r.json()["predictions"][0] == r.json()["predictions"][2] != r.json()["predictions"][1]


def test_an_explicit_feature_value_overrides_the_store(served):
    plain, low, high = (_predict(served["url"], [inst]).json()["predictions"][0] for inst in (
        {"driver_id": 9}, {"driver_id": 9, "stats__conv_rate": 0.0}, {"driver_id": 9, "stats__conv_rate": 1.0}))
    assert low < plain < high
    assert high == pytest.approx(_expected(served, [{"driver_id": 9, "stats__conv_rate": 1.0}])[0], rel=1e-9)


def test_an_unknown_driver_is_predicted_from_nulls_not_refused(served):
    r = _predict(served["url"], [{"driver_id": 10**6}])
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == pytest.approx(_expected(served, [{"driver_id": 10**6}]), rel=1e-9)


def test_a_missing_or_malformed_entity_key_is_a_422_naming_the_field(served):
    r = _predict(served["url"], [{"driver_id": 3}, {"drivr_id": 3}])
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_instances" and "driver_id" in err["message"]
    assert {(d["instance"], d["field"]) for d in err["details"]} == {(1, "driver_id"), (1, "drivr_id")}
    r = _predict(served["url"], [{"driver_id": "five"}])
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "driver_id", r.text
    r = _predict(served["url"], [{"driver_id": 3, "stats__conv_rate": "high"}])  # an override is validated like any value
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "stats__conv_rate", r.text


def _send(url: str, seconds: float, rng) -> int:
    """Requests of 100 random drivers each, for ``seconds``; the rows sent."""
    s, sent, end = requests.Session(), 0, time.time() + seconds
    while time.time() < end:
        batch = [{"driver_id": int(d)} for d in rng.integers(0, DRIVERS, 100)]
        r = s.post(f"{url}/v1/models/{MODEL}:predict", json={"instances": batch}, timeout=10)
        assert r.status_code == 200, r.text
        sent += len(batch)
        time.sleep(0.02)
    return sent


def _judged(monitor, version: int, after: float, timeout: float = 30.0) -> dict:
    """The first judged window of ``version`` that started at or after ``after``."""
    deadline, st = time.time() + timeout, {}
    while time.time() < deadline:
        st = ray.get(monitor.status.remote())["versions"].get(str(version), {})
        last = st.get("last_window") or {}
        if last.get("judged") and last.get("start", 0) >= after:
            return st
        time.sleep(0.2)
    raise AssertionError(f"no judged window after {after}: {st}")


def test_a_feature_shifted_in_the_online_store_is_flagged_within_two_windows(served):
    url, version, rng = served["url"], served["version"], np.random.default_rng(1)
    monitor = get_monitor(served["settings"], MODEL, create=False)
    t0 = time.time()
    _send(url, 2.5 * WINDOW_S, rng)
    calm = _judged(monitor, version, t0)["last_window"]
    # before the shift: no dataset drift, and the feature about to shift is not flagged (a chance flag of
    # another feature in one 2 s window can happen: profile__rating once in a full-suite run)
    assert not calm["dataset_drift"] and "stats__conv_rate" not in {f["feature"] for f in calm["features"] if f["drift"]}, calm
    # A broken upstream job writes conv_rate 0.3 higher for every driver (newer rows win in the store).
    store, now = served["fs"].online, now_us()
    store.write("stats", {encode_key([d]): OnlineRow(event_us=now, created_us=now, pos=0,
                                                     values={"conv_rate": float(rng.beta(4, 3) + 0.3), "trips": int(rng.poisson(12))})
                          for d in range(DRIVERS)})
    shifted = time.time()
    _send(url, 2.5 * WINDOW_S, rng)
    ray.get(monitor.tick.remote(time.time() + 3 * WINDOW_S))  # close what is still open
    last = _judged(monitor, version, shifted)["last_window"]
    flagged = {f["feature"] for f in last["features"] if f["drift"]}
    assert "stats__conv_rate" in flagged and "stats__trips" not in flagged, last  # the shifted feature, not its unshifted neighbour in the same rewritten view
    fired = [e.properties for e in connect(served["settings"]).get_executions(type="DriftAlert")
             if e.properties.get("model") == MODEL and e.properties.get("state") == "FIRING"]
    windows = {p["subject"]: p["window"] for p in fired}
    assert set(windows) >= {"feature:stats__conv_rate"} and "feature:stats__trips" not in windows, fired
    shift_window = int(shifted // WINDOW_S)
    print(f"conv_rate shifted in window {shift_window}, flagged in window {windows['feature:stats__conv_rate']}")
    assert shift_window <= windows["feature:stats__conv_rate"] <= shift_window + 2, (windows, shift_window)


def _freshness_series(text: str) -> dict[str, float]:
    out = {}
    for m in re.finditer(r'^ray_raymlops_feature_freshness_seconds\{([^}]*)\} ([0-9.e+-]+)$', text, re.M):
        view = re.search(r'view="([^"]+)"', m.group(1)).group(1)
        out[view] = float(m.group(2))
    return out


def test_freshness_is_a_ray_metric_published_by_the_serving_replica(served):
    node = next(n for n in ray.nodes() if n["Alive"])
    endpoint = f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics"
    state = {v: served["fs"].online.get_state(v)["newest_event_us"] for v in ("stats", "profile")}
    deadline, seen = time.time() + 60, {}
    while time.time() < deadline:
        seen = _freshness_series(requests.get(endpoint, timeout=5).text)
        if set(seen) == {"stats", "profile"}:
            break
        time.sleep(1.0)
    assert set(seen) == {"stats", "profile"}, seen
    for view, newest in state.items():
        expected = (now_us() - newest) / 1e6
        # published every 5 s and exported every few seconds: at most ~20 s old
        assert expected - 25 <= seen[view] <= expected + 1, (view, seen[view], expected)
    assert seen["profile"] > 86_000 and seen["stats"] < 3 * 3600
