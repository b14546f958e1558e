"""Generated driver statistics: a small feature repository to learn, test and demo with.

:func:`write_driver_repo` writes two sources (hourly driver stats with a created
timestamp, daily driver ratings without one), a repository YAML file and an entity
table of trips with a label, all from a seed. Nothing is downloaded.

Example:
    >>> import tempfile
    >>> paths = write_driver_repo(tempfile.mkdtemp(), drivers=5, hours=24, trips=50, seed=0)
    >>> sorted(paths)
    ['entities', 'ratings', 'repo', 'stats']
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

__all__ = ["REPO_YAML", "START", "write_driver_repo"]

START = pd.Timestamp("2024-05-01T00:00:00")

REPO_YAML = """\
entities:
  - name: driver
    join_keys: [driver_id]
sources:
  - name: driver_stats
    path: driver_stats.parquet
    timestamp_field: event_timestamp
    created_timestamp_column: created
  - name: driver_ratings
    path: driver_ratings.csv
    timestamp_field: day
feature_views:
  - name: driver_hourly
    entities: [driver]
    source: driver_stats
    ttl: 2h
    features:
      - {name: conv_rate, dtype: float}
      - {name: acc_rate, dtype: float}
      - {name: avg_daily_trips, dtype: int}
  - name: driver_daily
    entities: [driver]
    source: driver_ratings
    ttl: 2d
    features:
      - {name: rating, dtype: float}
      - {name: tier, dtype: string}
services:
  - name: driver_model
    features: [driver_hourly:conv_rate, driver_hourly:acc_rate, driver_hourly:avg_daily_trips, driver_daily:rating]
"""


def write_driver_repo(folder: str, *, drivers: int = 100, hours: int = 24 * 7, trips: int = 5000, seed: int = 0,
                      start: pd.Timestamp = START) -> dict[str, str]:
    """Write the sources, the repository file and an entity table of trips into ``folder``.

    The trip label (``completed``) depends on the driver's hourly conversion rate at the
    trip's time, so a model trained on point-in-time features can learn it, and one
    trained on future values would look better than it is. ``start`` is the first
    hour (naive UTC); pass ``now - hours`` for data that is fresh now (for serving).

    Returns:
        ``{"repo", "stats", "ratings", "entities"}`` paths.
    """
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    base = rng.uniform(0.2, 0.9, drivers)
    rows = []
    for h in range(hours):
        present = rng.random(drivers) < 0.8  # a driver has no row in some hours
        ids = np.flatnonzero(present) + 1000
        conv = np.clip(base[present] + rng.normal(0, 0.08, len(ids)) + 0.1 * np.sin(h / 12), 0, 1)
        ts = start + pd.Timedelta(hours=h) + pd.to_timedelta(rng.integers(0, 3600, len(ids)), unit="s")
        late = rng.random(len(ids)) < 0.05  # some rows arrive hours late
        created = ts + pd.to_timedelta(np.where(late, rng.integers(3, 10, len(ids)) * 3600, rng.integers(1, 120, len(ids))), unit="s")
        rows.append(pd.DataFrame({"driver_id": ids, "event_timestamp": ts, "created": created, "conv_rate": conv,
                                  "acc_rate": rng.uniform(0.5, 1.0, len(ids)), "avg_daily_trips": rng.integers(0, 40, len(ids))}))
    stats = pd.concat(rows, ignore_index=True)
    stats_path = os.path.join(folder, "driver_stats.parquet")
    stats.to_parquet(stats_path, index=False)
    days = max(1, hours // 24 + 1)
    ratings = pd.DataFrame({
        "driver_id": np.repeat(np.arange(drivers) + 1000, days),
        "day": np.tile([start + pd.Timedelta(days=d) for d in range(days)], drivers),
        "rating": np.round(rng.uniform(3.0, 5.0, drivers * days), 2),
        "tier": rng.choice(["gold", "silver", "bronze"], drivers * days),
    })
    ratings_path = os.path.join(folder, "driver_ratings.csv")
    ratings.to_csv(ratings_path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    trip_ts = start + pd.to_timedelta(rng.integers(0, hours * 3600, trips), unit="s")
    trip_drivers = rng.integers(0, drivers, trips)
    p = base[trip_drivers]
    entities = pd.DataFrame({"driver_id": trip_drivers + 1000, "event_timestamp": trip_ts,
                             "completed": (rng.random(trips) < p).astype(int)})
    entities_path = os.path.join(folder, "trips.parquet")
    entities.to_parquet(entities_path, index=False)
    repo_path = os.path.join(folder, "feature_repo.yaml")
    with open(repo_path, "w") as f:
        f.write(REPO_YAML)
    return {"repo": repo_path, "stats": stats_path, "ratings": ratings_path, "entities": entities_path}
