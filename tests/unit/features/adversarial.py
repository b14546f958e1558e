"""Adversarial point-in-time data and a plain numpy ``searchsorted`` oracle.

The oracle is written independently of the kernel: per key, a Python loop; per key the
feature rows sorted by (event, created, position) with ``np.lexsort`` and one
``np.searchsorted``; timestamps converted to UTC by pandas, not by our code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BASE = pd.Timestamp("2024-03-10T00:00:00")  # a DST change in America/New_York that night


@dataclass
class Case:
    entity: pd.DataFrame  # driver_id, event_timestamp (tz-aware, America/New_York), row_label
    files: list[pd.DataFrame]  # driver_id, ts, created, f_id (float), f_tag (string); some naive, some tz-aware
    ttl_s: int | None


def _utc_us(s: pd.Series) -> np.ndarray:
    """UTC microseconds of a naive (= UTC) or tz-aware series; NaT as int64 min."""
    s = pd.to_datetime(s)
    if s.dt.tz is None:
        s = s.dt.tz_localize("UTC")
    return s.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]").to_numpy().view(np.int64)


def make_case(seed: int, *, wide: bool = False) -> Case:
    """Equal event times with different created times, rows exactly at the TTL boundary,
    entity rows before any feature row, duplicate entity rows, keys split across files,
    naive and tz-aware timestamps, late rows (old event times in later files), null keys
    and timestamps. ``wide`` spreads times over centuries (the kernel's rank path)."""
    rng = np.random.default_rng(seed)
    n_keys = int(rng.integers(1, 12))
    ttl_s = [None, 60, 3600, 7 * 86_400][int(rng.integers(0, 4))]
    step = 86_400 * 365 * 20 if wide else 60  # seconds between distinct event times
    n_files = int(rng.integers(1, 5))
    files = []
    all_ts = []
    for fi in range(n_files):
        m = int(rng.integers(0, 60))
        ts_s = rng.integers(0, 40, size=m) * step  # few distinct times: many equal event times
        if fi and m:  # late rows: later files carry old event times too
            ts_s[: m // 3] = rng.integers(0, 5, size=m // 3) * step
        created_s = ts_s + rng.integers(0, 3, size=m) * 30  # ties in created times too
        ts = pd.Series(BASE + pd.to_timedelta(ts_s, unit="s"))
        created = pd.Series(BASE + pd.to_timedelta(created_s, unit="s"))
        keys = pd.Series(rng.integers(0, n_keys, size=m), dtype="Int64")
        if m:
            keys[rng.random(m) < 0.05] = pd.NA
            ts[rng.random(m) < 0.05] = pd.NaT
            created[rng.random(m) < 0.1] = pd.NaT
        df = pd.DataFrame({"driver_id": keys, "ts": ts, "created": created})
        if fi % 2 == 1:  # tz-aware file: the same instants written in another zone
            df["ts"] = df["ts"].dt.tz_localize("UTC").dt.tz_convert("Asia/Kolkata")
            df["created"] = df["created"].dt.tz_localize("UTC").dt.tz_convert("Asia/Kolkata")
        df["f_id"] = np.arange(m, dtype=float) + 1000.0 * (fi + 1)
        df["f_tag"] = pd.Series([f"{fi}:{i}" for i in range(m)], dtype="str", index=df.index)
        files.append(df)
        all_ts.append(ts_s)
    pool = np.concatenate(all_ts) if all_ts else np.array([0])
    n = int(rng.integers(0, 80))
    e_s = rng.integers(-3, 45, size=n) * step  # some before any feature row
    if n and len(pool) and ttl_s:
        at = rng.random(n) < 0.3  # exactly at the TTL boundary of some feature time
        e_s[at] = rng.choice(pool, size=int(at.sum())) + ttl_s * (0 if wide else 1)
    if n:
        same = rng.random(n) < 0.2
        e_s[same] = rng.choice(pool, size=int(same.sum())) if len(pool) else 0
    e_keys = pd.Series(rng.integers(0, n_keys + 1, size=n), dtype="Int64")  # one key no file has
    e_ts = pd.Series(BASE + pd.to_timedelta(e_s, unit="s"))
    if n:
        e_keys[rng.random(n) < 0.03] = pd.NA
        e_ts[rng.random(n) < 0.03] = pd.NaT
    entity = pd.DataFrame({"driver_id": e_keys, "event_timestamp": e_ts.dt.tz_localize("UTC").dt.tz_convert("America/New_York")})
    if n:  # duplicate entity rows
        entity = pd.concat([entity, entity.sample(n=max(1, n // 5), random_state=seed)], ignore_index=True)
    entity["row_label"] = np.arange(len(entity))
    return Case(entity=entity, files=files, ttl_s=ttl_s)


def oracle(case: Case) -> tuple[list, list]:
    """The expected (f_id, f_tag) of each entity row: per key, lexsort + searchsorted."""
    feats = []
    for fi, df in enumerate(case.files):
        feats.append(pd.DataFrame({
            "key": df["driver_id"], "ts": _utc_us(df["ts"]), "created": _utc_us(df["created"]),
            "pos": fi * 1_000_000 + np.arange(len(df)), "f_id": df["f_id"], "f_tag": df["f_tag"],
        }))
    f = pd.concat(feats, ignore_index=True) if feats else pd.DataFrame(columns=["key", "ts", "created", "pos", "f_id", "f_tag"])
    nat = np.iinfo(np.int64).min
    f = f[f["key"].notna() & (f["ts"] != nat)]
    e_key = case.entity["driver_id"]
    e_ts = _utc_us(case.entity["event_timestamp"])
    ids: list = [None] * len(case.entity)
    tags: list = [None] * len(case.entity)
    for key, g in f.groupby("key"):
        order = np.lexsort((g["pos"].to_numpy(), g["created"].to_numpy(), g["ts"].to_numpy()))
        ts_sorted = g["ts"].to_numpy()[order]
        for i in np.flatnonzero((e_key == key).fillna(False).to_numpy() & (e_ts != nat)):
            j = np.searchsorted(ts_sorted, e_ts[i], side="right") - 1
            if j < 0:
                continue
            if case.ttl_s is not None and ts_sorted[j] < e_ts[i] - case.ttl_s * 1_000_000:
                continue
            row = g.iloc[order[j]]
            ids[i], tags[i] = float(row["f_id"]), row["f_tag"]
    return ids, tags
