"""The adversarial PIT cases in a form Feast's offline store can express, for the Feast parity test.

Shared by ``benchmarks/parity_feast_pit.py`` (which runs Feast on them and writes the golden
file) and ``tests/unit/features/test_feast_parity.py`` (which runs our join on them). Both
regenerate a case from its seed with :func:`~tests.unit.features.adversarial.make_case`,
then adapt it:

* one timestamp type per case: Feast reads one source (one Parquet file) per view, so all
  of a case's feature files get the same timestamp type — naive (UTC) when the case has
  one file, tz-aware ``Asia/Kolkata`` when it has several (the entity rows stay tz-aware
  ``America/New_York``). Our join reads both the merged file Feast reads and the case's
  split files (keys split across files, late rows in later files).
* full ties removed: feature rows equal on key, event time *and* created time (nulls
  included) are ambiguous for Feast (its ``ROW_NUMBER() OVER (ORDER BY event, created
  DESC)`` has no further order), so of each such group only the last row in source order
  (the one our rule picks) is kept.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd

from tests.unit.features.adversarial import Case, _utc_us, make_case

SEEDS = tuple(range(20))
FEATURES = ("f_id", "f_tag")


def _retype(s: pd.Series, tz: str | None) -> pd.Series:
    s = pd.to_datetime(s).astype("datetime64[us]" if s.dt.tz is None else f"datetime64[us, {s.dt.tz}]")
    if s.dt.tz is None:
        s = s.dt.tz_localize("UTC")
    s = s.dt.tz_convert("UTC")
    return s.dt.tz_convert(tz) if tz else s.dt.tz_localize(None)


def feast_case(seed: int) -> tuple[Case, dict]:
    """``make_case(seed)`` adapted for Feast, and facts about it (timezone, rows removed as full ties)."""
    case = make_case(seed)
    tz = "Asia/Kolkata" if len(case.files) > 1 else None
    files = []
    for df in case.files:
        df = df.copy()
        df["ts"], df["created"] = _retype(df["ts"], tz), _retype(df["created"], tz)
        files.append(df)
    # full ties: (key, event, created) equal; keep the last row in source order
    allf = pd.concat([pd.DataFrame({"fi": fi, "row": np.arange(len(df)), "key": df["driver_id"].astype("float64"),
                                    "ts": _utc_us(df["ts"]), "created": _utc_us(df["created"])})
                      for fi, df in enumerate(files)], ignore_index=True)
    dup = allf.duplicated(["key", "ts", "created"], keep="last").to_numpy()
    dropped = int(dup.sum())
    kept = []
    for fi, df in enumerate(files):
        drop_rows = allf.loc[dup & (allf["fi"] == fi).to_numpy(), "row"].to_numpy()
        kept.append(df.drop(index=df.index[drop_rows]).reset_index(drop=True))
    return Case(entity=case.entity, files=kept, ttl_s=case.ttl_s), {"seed": seed, "tz": tz or "naive", "full_ties_dropped": dropped}


def merged(case: Case) -> pd.DataFrame:
    """The case's feature files as one table, in file order (what Feast reads)."""
    return pd.concat(case.files, ignore_index=True)


def input_hash(case: Case) -> str:
    """sha256 of the generated inputs (values and dtypes), to detect drift of the generator."""
    h = hashlib.sha256()
    for df in [case.entity, *case.files]:
        h.update(str(list(df.dtypes.astype(str).items())).encode())
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    h.update(repr(case.ttl_s).encode())
    return h.hexdigest()


def write_case(case: Case, folder: str) -> dict:
    """Parquet files of the case: ``entity.parquet``, ``features.parquet`` (merged), ``split/part-N.parquet``."""
    os.makedirs(os.path.join(folder, "split"), exist_ok=True)
    paths = {"entity": os.path.join(folder, "entity.parquet"), "features": os.path.join(folder, "features.parquet"),
             "split": os.path.join(folder, "split")}
    case.entity.to_parquet(paths["entity"], index=False)
    merged(case).to_parquet(paths["features"], index=False)
    for i, df in enumerate(case.files):
        df.to_parquet(os.path.join(folder, "split", f"part-{i}.parquet"), index=False)
    return paths


def our_join(features_uri: str, entity_path: str, ttl_s: int | None) -> dict:
    """Our in-process join (:func:`raymlops.features.local.local_join`, no Ray) on the written files."""
    import pyarrow as pa

    from raymlops.features.local import files_of, local_join, read_table
    from raymlops.features.plan import ViewSpec

    spec = ViewSpec(name="stats", files=files_of(features_uri), join_keys={"driver_id": pa.int64()}, timestamp_field="ts",
                    created_column="created", features={"f_id": ("stats__f_id", pa.float64()), "f_tag": ("stats__f_tag", pa.string())},
                    ttl=ttl_s)
    out = local_join([spec], read_table(files_of(entity_path)), "event_timestamp")
    return {"row_labels": out.column("row_label").to_pylist(), "f_id": out.column("stats__f_id").to_pylist(),
            "f_tag": out.column("stats__f_tag").to_pylist()}
