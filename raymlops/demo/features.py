"""The feature-store chapter of the demo: a point-in-time training set, a model, a lookup by key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from raymlops.cli.render import table
from raymlops.core.config import Settings
from raymlops.features import FeatureStore, OnlineFeatureJoiner, Repository
from raymlops.features.sample import START, write_driver_repo
from raymlops.features.times import to_us
from raymlops.registry import ModelRegistry
from raymlops.training.train import Trainer

__all__ = ["chapter"]

MODEL = "driver-completion"


def chapter(settings: Settings, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Generated driver stats → PIT training set → trained model → features served by entity key."""
    settings.ensure_home()
    folder = settings.home / "features-demo"
    paths = write_driver_repo(str(folder), drivers=60, hours=72, trips=4000, seed=0)
    say("\n== Feature store: point-in-time training set, online features by entity key")
    fs = FeatureStore(paths["repo"], settings=settings)
    applied = fs.apply()
    say(f"applied {paths['repo']}: definitions version {applied['version']} "
        f"({len(applied['changed'])} changes; views: {', '.join(applied['feature_views'])})")

    train_path = str(folder / "training_set.parquet")
    hist = fs.get_historical_features(paths["entities"], service="driver_model", out=train_path)
    train = pd.read_parquet(train_path)
    feats = [c for c in train.columns if "__" in c]
    say(f"training set: {hist['rows']} trips, every one kept in order ({hist['join']} join); each trip gets the driver's "
        f"stats as they were at the trip's time, never later ones")
    say(table([{"feature": c, "nulls": int(train[c].isna().sum())} for c in feats], ["feature", "nulls"]))
    say("nulls are trips with no stats row inside the view's TTL before the trip (2h for hourly stats)")

    result = Trainer(settings).fit(train_path, target="completed", name=MODEL, experiment="demo-features")
    say(f"trained {MODEL}@{result.version} on the training set: test accuracy {result.metrics['test']['accuracy']:.4f} "
        f"(lineage: model <- training set <- definitions v{hist['definition_version']} and the sources' hashes)")

    end = START + pd.Timedelta(hours=72)
    mat = fs.materialize(end=end.isoformat())
    say(f"materialized into {mat['online']}: " + ", ".join(f"{v} {r['rows_written']} keys" for v, r in mat["views"].items()))

    registry = ModelRegistry.connect(settings)
    signature = registry.get(f"{MODEL}@{result.version}")["signature"]
    columns = [i["name"] for i in signature["inputs"]]
    selection = fs.repo.resolve(service="driver_model")
    joiner = OnlineFeatureJoiner(fs.reader(selection), columns=columns, service_columns=Repository.columns(selection),
                                 join_keys=fs.repo.join_keys("driver_hourly"))
    now = to_us(end)
    request = {"driver_id": 1005}
    instances = [dict(request, event_timestamp=end) if "event_timestamp" in columns else dict(request)]
    rows, statuses = joiner.join(instances, now_us=now)
    model = registry.load(f"{MODEL}@{result.version}")
    frame = pd.DataFrame(rows, columns=columns)
    prediction = model.predict(frame).tolist()[0]
    say(f"request {request} -> features joined from the online store, then predicted: {prediction}")
    say(table([{"feature": c, "value": rows[0][c], "status": statuses[0][c]} for c in columns if c != "event_timestamp"],
              ["feature", "value", "status"]))
    later = joiner.join(instances, now_us=now + 3 * 3600 * 1_000_000)[1][0]
    say(f"three hours later the hourly stats are past their 2h TTL: {later['driver_hourly__conv_rate']} (null, not a stale value)")
    return {
        "definition_version": applied["version"],
        "training_rows": hist["rows"],
        "training_nulls": {c: int(train[c].isna().sum()) for c in feats},
        "model": f"{MODEL}@{result.version}",
        "test_accuracy": result.metrics["test"]["accuracy"],
        "materialized": {v: r["rows_written"] for v, r in mat["views"].items()},
        "lookup": {"request": request, "features": rows[0], "status": statuses[0], "prediction": prediction},
        "expired_status": later["driver_hourly__conv_rate"],
    }

