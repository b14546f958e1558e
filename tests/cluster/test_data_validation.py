"""Every anomaly kind planted in generated data, validated on Ray Data, via Python and the CLI."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from raymlops.data.pipeline import DataPipeline
from raymlops.data.schema import Schema
from raymlops.data.validation import SchemaMismatchError
from tests.conftest import PYTHON, cli_env

SCHEMA = {
    "key": ["id"],
    "columns": [
        {"name": "id", "type": "int", "nullable": False},
        {"name": "age", "type": "int", "nullable": False, "min": 0, "max": 120},
        {"name": "income", "type": "float", "nullable": True, "min": 0.0},
        {"name": "score", "type": "float", "nullable": True},
        {"name": "color", "type": "string", "nullable": False, "domain": ["r", "g", "b"]},
        {"name": "y", "type": "string", "nullable": False},
    ],
    "label": {"column": "y", "classes": {"no": {"definition": "did not churn"}, "yes": {"definition": "churned"}}},
}

# row -> (column, value, expected reason kind(s))
PLANTED = {
    110: [("income", "abc", "wrong_type")],
    220: [("age", "150", "out_of_range")],
    330: [("color", "purple", "unseen_category")],
    335: [("y", "maybe", "unseen_category")],
    440: [("age", "", "null_not_allowed")],
    550: [("score", "inf", "nan_or_inf")],
    555: [("score", "nan", "nan_or_inf")],
    1660: [("id", "5", "duplicate_key")],  # in the second file: repeats row 5 of the first
    770: [("age", "-3", "out_of_range"), ("color", "pink", "unseen_category")],
}


def clean_frame(n: int = 2400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "age": rng.integers(18, 90, n),
            "income": np.round(rng.gamma(2.0, 20000.0, n), 2),
            "score": np.round(rng.normal(size=n), 4),
            "color": rng.choice(["r", "g", "b"], n),
            "y": rng.choice(["no", "yes"], n),
        }
    )


def write_planted(folder, extra_column: bool = False, drop: str | None = None) -> pd.DataFrame:
    df = clean_frame().astype(str)
    for row, changes in PLANTED.items():
        for col, value, _ in changes:
            df.loc[row, col] = value
    if extra_column:
        df["extra"] = "x"
    if drop:
        df = df.drop(columns=[drop])
    folder.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(np.array_split(np.arange(len(df)), 3)):  # 3 files -> 3 blocks
        df.iloc[part].to_csv(folder / f"part-{i}.csv", index=False)
    return df


@pytest.fixture
def schema_file(tmp_path):
    p = tmp_path / "schema.json"
    Schema.from_dict(SCHEMA).save(p)
    return p


def test_every_planted_anomaly_is_quarantined_with_its_reason(ray_session, tmp_path, schema_file):
    write_planted(tmp_path / "data")
    pipe = DataPipeline(ray_session, out_dir=str(tmp_path / "out"))
    raw = pipe.ingest(str(tmp_path / "data"))
    schema, schema_art = pipe.schema(raw, schema_path=str(schema_file))
    outcome, arts = pipe.validate(raw, schema, schema_art, quarantine_path=str(tmp_path / "q.parquet"))
    rep = outcome.report.to_dict()
    assert rep["rows_in"] == 2400 == rep["rows_valid"] + rep["rows_quarantined"]
    assert rep["rows_quarantined"] == len(PLANTED)

    q = pq.read_table(tmp_path / "q.parquet").to_pandas()
    q["row"] = q["id"].astype(int)
    q.loc[q["id"] == "5", "row"] = 1660  # the duplicate carries the key of row 5
    assert set(q["row"]) == set(PLANTED)
    for _, r in q.iterrows():
        for col, _, kind in PLANTED[r["row"]]:
            assert f"{col}: {kind}" in r["__reasons"], r["__reasons"]
    # all original columns are kept, as they came in
    assert list(q.columns[:6]) == ["id", "age", "income", "score", "color", "y"]
    # no clean row quarantined: valid rows are exactly the others
    valid = pipe.load(arts["valid"])
    assert sorted(valid["id"].tolist()) == sorted(set(range(2400)) - set(PLANTED))  # row 1660 lost its own id
    kinds = {(a["column"], a["kind"]): a["count"] for a in rep["anomalies"]}
    assert kinds[("age", "out_of_range")] == 2 and kinds[("id", "duplicate_key")] == 1
    assert kinds[("score", "nan_or_inf")] == 2 and kinds[("y", "unseen_category")] == 1


def test_unexpected_column_is_reported_and_rows_kept(ray_session, tmp_path, schema_file):
    df = clean_frame(300)
    df["extra"] = 1
    df.to_csv(tmp_path / "d.csv", index=False)
    pipe = DataPipeline(ray_session, out_dir=str(tmp_path / "out"))
    raw = pipe.ingest(str(tmp_path / "d.csv"))
    schema, art = pipe.schema(raw, schema_path=str(schema_file))
    outcome, _ = pipe.validate(raw, schema, art)
    rep = outcome.report.to_dict()
    assert rep["rows_quarantined"] == 0 and rep["rows_valid"] == 300
    assert [(a["column"], a["kind"]) for a in rep["anomalies"]] == [("extra", "unexpected_column")]


def test_a_missing_column_fails_the_step_with_a_clear_message(ray_session, tmp_path, schema_file):
    clean_frame(100).drop(columns=["color"]).to_csv(tmp_path / "d.csv", index=False)
    pipe = DataPipeline(ray_session, out_dir=str(tmp_path / "out"))
    raw = pipe.ingest(str(tmp_path / "d.csv"))
    schema, art = pipe.schema(raw, schema_path=str(schema_file))
    with pytest.raises(SchemaMismatchError, match="color"):
        pipe.validate(raw, schema, art)
    failed = pipe.store.get_executions(type="Validate", state="FAILED")
    assert failed and "color" in failed[-1].error


def _cli(address, home, *args):
    return subprocess.run(
        [PYTHON, "-m", "raymlops", *args], capture_output=True, text=True, env=cli_env(home, RAY_ADDRESS=address), timeout=300
    )


def test_cli_exit_codes_and_json(ray_address, tmp_path, schema_file):
    home = tmp_path / "home"
    clean_frame(500).to_csv(tmp_path / "clean.csv", index=False)
    write_planted(tmp_path / "bad")
    ok = _cli(ray_address, home, "data", "validate", str(tmp_path / "clean.csv"), "--schema", str(schema_file), "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["rows_quarantined"] == 0
    bad = _cli(ray_address, home, "data", "validate", str(tmp_path / "bad"), "--schema", str(schema_file), "--json",
               "--quarantine", str(tmp_path / "q.parquet"))
    assert bad.returncode == 1, bad.stderr
    out = json.loads(bad.stdout)
    assert {"rows_in", "rows_valid", "rows_quarantined", "anomalies"} <= set(out)
    assert all({"column", "kind", "count", "message"} <= set(a) for a in out["anomalies"])
    assert pq.read_table(tmp_path / "q.parquet").num_rows == len(PLANTED)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "garbage.parquet").write_bytes(b"\x00\x01not parquet at all" * 10)
    for path, needle in (
        (tmp_path / "missing.csv", "does not exist"),
        (tmp_path / "empty.csv", "is empty"),
        (tmp_path / "garbage.parquet", "cannot read"),
        (tmp_path / "schema.json", "cannot tell the format"),
    ):
        res = _cli(ray_address, home, "data", "validate", str(path))
        assert res.returncode == 2, (path, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and "Traceback" not in res.stderr, res.stderr
    missing = tmp_path / "nocolor.csv"
    clean_frame(50).drop(columns=["color"]).to_csv(missing, index=False)
    res = _cli(ray_address, home, "data", "validate", str(missing), "--schema", str(schema_file))
    assert res.returncode == 1 and "color" in res.stderr and len(res.stderr.strip().splitlines()) == 1
