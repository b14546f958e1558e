"""The demo's feature-store chapter: a point-in-time training set, a model trained on it, served by entity key."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import ray
import requests
from ray import serve

from raymlops.cli.render import table
from raymlops.core.config import Settings
from raymlops.features import FeatureStore
from raymlops.features.sample import write_driver_repo
from raymlops.serving import deploy, get_controller
from raymlops.training.train import Trainer

__all__ = ["MODEL", "features_chapter"]

MODEL = "driver-completion"
HOURS = 24
TRIPS = 2000


def features_chapter(settings: Settings, say: Callable[[str], None], *, port: int = 8000, keep_serving: bool = False) -> dict[str, Any]:
    """Generated driver stats → PIT training set → trained model → served by entity key over HTTP."""
    folder = settings.home / "features-demo"
    start = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("h") - pd.Timedelta(hours=HOURS - 1)
    paths = write_driver_repo(str(folder), drivers=60, hours=HOURS, trips=TRIPS, seed=0, start=start)
    fs = FeatureStore(paths["repo"], settings=settings)
    applied = fs.apply()
    say(f"feature repository {paths['repo']}: definitions version {applied['version']} (views: {', '.join(applied['feature_views'])})")

    train_path = str(folder / "training_set.parquet")
    hist = fs.get_historical_features(paths["entities"], service="driver_model", out=train_path, engine="auto")
    train = pd.read_parquet(train_path)
    feats = [c for c in train.columns if "__" in c]
    say(f"point-in-time training set: {hist['rows']} of {TRIPS} trips kept, in order ({hist['join']} join); each trip has "
        "its driver's stats as they were at the trip's time, never later ones")
    say(table([{"feature": c, "nulls": int(train[c].isna().sum())} for c in feats], ["feature", "nulls"]))
    say("(a null: no stats row within the view's TTL before the trip; 2h for the hourly stats)")

    result = Trainer(settings).fit(train_path, target="completed", name=MODEL, experiment="demo-features")
    ref = f"{MODEL}@{result.version}"
    mat = fs.materialize(end=pd.Timestamp.now(tz="UTC").isoformat())
    binding = fs.bind_model(ref, service="driver_model")
    say(f"trained {ref} on it (test accuracy {result.metrics['test']['accuracy']:.4f}); materialized "
        + ", ".join(f"{v}: {r['rows_written']} drivers" for v, r in mat["views"].items())
        + f" into {mat['online']}; {ref} bound to feature service {binding.service!r}")

    url = deploy(settings, port=port, gate_interval_s=2.0)
    ctl = get_controller(settings)
    ray.get(ctl.serve_model.remote(MODEL, result.version, None, 1, False))
    deadline = time.time() + 30
    while MODEL not in requests.get(f"{url}/v1/healthz", timeout=10).json().get("models", []) and time.time() < deadline:
        time.sleep(0.2)
    lookups = []
    online = fs.get_online_features([{"driver_id": d} for d in (1005, 1042)], service="driver_model")
    for n, body in enumerate(({"driver_id": 1005}, {"driver_id": 1042}, {"driver_id": 1042, "driver_hourly__conv_rate": 0.05})):
        r = requests.post(f"{url}/v1/models/{MODEL}:predict", json={"instances": [body]}, timeout=10)
        stored = online.values["driver_hourly__conv_rate"][min(n, 1)]
        conv = body.get("driver_hourly__conv_rate", stored)
        lookups.append({"request": str(body), "conv_rate": "null" if conv is None else round(conv, 3),
                        "from": "request" if "driver_hourly__conv_rate" in body else "store",
                        "status": r.status_code, "prediction": r.json().get("predictions", [None])[0]})
    say(f"served by entity key at {url}/v1/models/{MODEL}:predict: the model server joins the online features into each request")
    say(table(lookups, ["request", "conv_rate", "from", "status", "prediction"]))
    bad = requests.post(f"{url}/v1/models/{MODEL}:predict", json={"instances": [{"driver": 1005}]}, timeout=10)
    say(f"a request without the entity key: {bad.status_code} {bad.json()['error']['details'][0]}")
    if not keep_serving:
        for app in list(serve.status().applications):
            if app.startswith("raymlops"):
                serve.delete(app)
        ray.kill(ctl)
    return {
        "definition_version": applied["version"],
        "training_rows": hist["rows"],
        "training_nulls": {c: int(train[c].isna().sum()) for c in feats},
        "model": ref,
        "test_accuracy": result.metrics["test"]["accuracy"],
        "materialized": {v: r["rows_written"] for v, r in mat["views"].items()},
        "lookups": lookups,
        "missing_key": {"status": bad.status_code, "details": bad.json()["error"]["details"]},
    }
