"""Row-level validation with quarantine: planted anomalies, reasons, counts, duplicate keys."""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raymlops.data.schema import Schema, infer_schema
from raymlops.data.validation import (
    ANOMALY_KINDS,
    REASONS_COLUMN,
    Anomaly,
    KeyTracker,
    SchemaMismatchError,
    ValidationReport,
    key_hashes,
    validate_batch,
)
from raymlops.core.errors import ChecksFailedError

SCHEMA = {
    "version": 1,
    "columns": [
        {"name": "row", "type": "int", "nullable": False, "min": 0, "max": None},
        {"name": "id", "type": "int", "nullable": False, "min": 0, "max": None},
        {"name": "age", "type": "int", "nullable": False, "min": 0, "max": 120},
        {"name": "income", "type": "float", "nullable": True, "min": 0.0, "max": 1e6, "allow_nan_or_inf": False},
        {"name": "color", "type": "string", "nullable": False, "domain": ["blue", "green", "red"]},
        {"name": "city", "type": "string", "nullable": True, "domain": None},
        {"name": "signup", "type": "datetime", "nullable": False, "min": "2020-01-01T00:00:00", "max": "2024-12-31T23:59:59"},
        {"name": "active", "type": "bool", "nullable": False},
        {"name": "churn", "type": "string", "nullable": False},
    ],
    "label": {
        "column": "churn",
        "classes": {
            "no": {"definition": "still a paying customer 90 days after the snapshot"},
            "yes": {"definition": "cancelled within 90 days of the snapshot"},
        },
    },
    "key": ["id"],
}

# (column, kind) -> a function of the random generator giving a bad value
PLANTS = {
    ("age", "out_of_range"): lambda rng: int(rng.choice([-1, 121, 500])),
    ("age", "null_not_allowed"): lambda rng: None,
    ("income", "nan_or_inf"): lambda rng: float(rng.choice([np.nan, np.inf, -np.inf])),
    ("income", "out_of_range"): lambda rng: float(rng.choice([-5.0, 2e6])),
    ("color", "unseen_category"): lambda rng: str(rng.choice(["purple", "Red", ""])),
    ("color", "null_not_allowed"): lambda rng: None,
    ("signup", "out_of_range"): lambda rng: datetime(2019, 6, 1) if rng.random() < 0.5 else datetime(2031, 1, 1),
    ("signup", "null_not_allowed"): lambda rng: None,
    ("active", "null_not_allowed"): lambda rng: None,
    ("churn", "unseen_category"): lambda rng: "maybe",
}


def clean_columns(n: int, rng: np.random.Generator, first_id: int = 0) -> dict[str, list]:
    seconds = rng.integers(0, 5 * 365 * 86400 - 1, n)
    return {
        "row": list(range(n)),
        "id": list(range(first_id, first_id + n)),
        "age": rng.integers(0, 121, n).tolist(),
        "income": [None if rng.random() < 0.05 else float(v) for v in rng.uniform(0, 1e6, n)],
        "color": rng.choice(["blue", "green", "red"], n).tolist(),
        "city": [None if rng.random() < 0.1 else f"city-{i}" for i in rng.integers(0, 500, n)],
        "signup": [datetime(2020, 1, 1) + pd.Timedelta(seconds=int(s)).to_pytimedelta() for s in seconds],
        "active": (rng.random(n) < 0.5).tolist(),
        "churn": rng.choice(["no", "yes"], n).tolist(),
    }


def to_table(cols: dict[str, list]) -> pa.Table:
    types = {"row": pa.int64(), "id": pa.int64(), "age": pa.int64(), "income": pa.float64(), "signup": pa.timestamp("us")}
    return pa.table({k: pa.array(v, types.get(k)) for k, v in cols.items()})


def planted(seed: int, n: int = 400, rate: float = 0.08) -> tuple[pa.Table, dict[int, set[tuple[str, str]]]]:
    """Clean rows with anomalies planted at random; the expected failing checks per row."""
    rng = np.random.default_rng(seed)
    cols = clean_columns(n, rng)
    expected: dict[int, set[tuple[str, str]]] = {}
    by_column: dict[str, list[tuple[str, str]]] = {}
    for column, kind in PLANTS:
        by_column.setdefault(column, []).append((column, kind))
    for row in range(n):
        for column, options in by_column.items():
            if rng.random() < rate:
                column_kind = options[rng.integers(len(options))]
                cols[column][row] = PLANTS[column_kind](rng)
                expected.setdefault(row, set()).add(column_kind)
    # duplicate keys: a later row takes the id of an earlier row that keeps its own
    donors = set()
    for row in range(1, n):
        if rng.random() < rate:
            earlier = int(rng.integers(0, row))
            if earlier in donors or cols["id"][earlier] != earlier:
                continue
            cols["id"][row] = earlier
            donors.add(earlier)
            expected.setdefault(row, set()).add(("id", "duplicate_key"))
    return to_table(cols), expected


def rows(table: pa.Table) -> list[dict]:
    """Rows as dicts, NaN spelled out so that equal rows compare equal."""
    return [{k: "NaN" if isinstance(v, float) and v != v else v for k, v in r.items()} for r in table.to_pylist()]


def parse_reasons(text: str) -> set[tuple[str, str]]:
    entries = text.split("; ")
    out = set()
    for entry in entries:
        m = re.fullmatch(r"(\S+): (\w+) \((.*)\)", entry)
        assert m, f"malformed reason entry {entry!r} in {text!r}"
        out.add((m.group(1), m.group(2)))
    return out


@pytest.fixture
def schema() -> Schema:
    return Schema.from_dict(SCHEMA)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_every_planted_anomaly_is_quarantined_with_all_its_reasons(schema, seed):
    table, expected = planted(seed)
    result = validate_batch(table, schema)
    got = {
        row: parse_reasons(reasons)
        for row, reasons in zip(result.quarantined.column("row").to_pylist(), result.quarantined.column(REASONS_COLUMN).to_pylist())
    }
    assert got == expected  # bad rows with exactly their reasons, and no clean row
    assert result.rows_in == result.rows_valid + result.rows_quarantined == table.num_rows
    assert result.rows_quarantined == len(expected)
    assert not set(result.valid.column("row").to_pylist()) & set(expected)
    counts = {(a.column, a.kind): a.count for a in result.anomalies}
    planted_counts: dict[tuple[str, str], int] = {}
    for checks in expected.values():
        for check in checks:
            planted_counts[check] = planted_counts.get(check, 0) + 1
    assert counts == planted_counts
    assert set(k for _, k in counts) <= set(ANOMALY_KINDS)


def test_quarantine_keeps_original_columns_and_valid_rows_are_unchanged(schema):
    table, expected = planted(7)
    result = validate_batch(table, schema)
    assert result.quarantined.column_names == table.column_names + [REASONS_COLUMN]
    assert rows(result.quarantined.drop_columns([REASONS_COLUMN])) == [r for r in rows(table) if r["row"] in expected]
    assert result.valid.schema == table.schema
    assert rows(result.valid) == [r for r in rows(table) if r["row"] not in expected]


def test_multiple_failures_in_one_row_are_all_listed_with_details(schema):
    rng = np.random.default_rng(0)
    cols = clean_columns(3, rng)
    cols["age"][1] = 130
    cols["color"][1] = "purple"
    cols["income"][1] = float("inf")
    cols["churn"][1] = "maybe"
    result = validate_batch(to_table(cols), schema)
    assert result.quarantined.column("row").to_pylist() == [1]
    assert result.quarantined.column(REASONS_COLUMN)[0].as_py() == (
        "age: out_of_range (130 not in [0, 120]); income: nan_or_inf (inf); "
        "color: unseen_category ('purple' not in domain); churn: unseen_category ('maybe' not in label classes)"
    )


def test_messages_say_what_was_wrong_and_what_to_do(schema):
    rng = np.random.default_rng(1)
    cols = clean_columns(20, rng)
    for i in range(12):
        cols["age"][i] = 200 + i
    result = validate_batch(to_table(cols), schema)
    (anomaly,) = result.anomalies
    assert anomaly.to_dict() == {
        "column": "age",
        "kind": "out_of_range",
        "count": 12,
        "message": "12 values of 'age' out of range [0, 120] (e.g. 200); widen the range in the schema if such "
        "values are valid",
    }


def test_widening_the_range_in_the_schema_file_changes_the_verdict(tmp_path, schema):
    rng = np.random.default_rng(2)
    cols = clean_columns(50, rng)
    cols["age"][3] = 130
    table = to_table(cols)
    path = schema.save(tmp_path / "schema.json")
    assert validate_batch(table, Schema.load(path)).rows_quarantined == 1
    text = path.read_text()
    edited = text.replace('"max": 120', '"max": 150')
    assert edited != text
    path.write_text(edited)
    result = validate_batch(table, Schema.load(path))
    assert result.rows_quarantined == 0 and result.anomalies == ()


def test_adding_a_category_in_the_schema_file_changes_the_verdict(tmp_path, schema):
    rng = np.random.default_rng(3)
    cols = clean_columns(30, rng)
    cols["color"][0] = "purple"
    cols["churn"][1] = "paused"
    table = to_table(cols)
    data = schema.to_dict()
    data["columns"][4]["domain"].append("purple")
    data["label"]["classes"]["paused"] = {"definition": "subscription paused, not cancelled"}
    path = tmp_path / "schema.json"
    Schema.from_dict(data).save(path)
    assert validate_batch(table, schema).rows_quarantined == 2
    assert validate_batch(table, Schema.load(path)).rows_quarantined == 0


def test_missing_column_fails_the_step_naming_the_column(schema):
    table = to_table(clean_columns(5, np.random.default_rng(0))).drop_columns(["age", "color"])
    with pytest.raises(SchemaMismatchError) as info:
        validate_batch(table, schema)
    err = info.value
    assert "no column 'age', 'color' that the schema requires" in str(err)
    assert "remove them from the schema file" in str(err)
    assert err.exit_code == 1
    assert err.details == [{"column": "age", "kind": "missing_column"}, {"column": "color", "kind": "missing_column"}]


def test_unexpected_column_is_reported_and_rows_are_kept(schema):
    table = to_table(clean_columns(10, np.random.default_rng(0))).append_column("extra", pa.array(range(10)))
    result = validate_batch(table, schema)
    assert result.rows_valid == 10 and result.rows_quarantined == 0
    assert result.valid.column_names[-1] == "extra"
    (anomaly,) = result.anomalies
    assert (anomaly.column, anomaly.kind, anomaly.count) == ("extra", "unexpected_column", 10)
    assert "not in the schema" in anomaly.message and "add the column to the schema" in anomaly.message


def test_strings_from_csv_are_cast_and_unreadable_values_are_wrong_type(schema):
    rng = np.random.default_rng(4)
    cols = clean_columns(6, rng)
    strings = {k: [None if v is None else str(v) for v in vals] for k, vals in cols.items()}
    strings["active"] = ["true", "False", "1", "0", "yes", "no"]
    strings["income"][1] = "abc"
    strings["income"][2] = ""  # an empty CSV field is a missing value
    strings["age"][3] = "12.5"
    strings["age"][4] = " 42 "
    strings["signup"][5] = "last tuesday"
    table = pa.table({k: pa.array(v, pa.string()) for k, v in strings.items()})
    result = validate_batch(table, schema)
    reasons = dict(zip(result.quarantined.column("row").to_pylist(), result.quarantined.column(REASONS_COLUMN).to_pylist()))
    assert reasons == {
        "1": "income: wrong_type ('abc' is not a float)",
        "3": "age: wrong_type ('12.5' is not an int)",
        "5": "signup: wrong_type ('last tuesday' is not a datetime)",
    }
    valid = result.valid
    assert valid.schema.field("income").type == pa.float64()
    assert valid.schema.field("age").type == pa.int64()
    assert valid.schema.field("active").type == pa.bool_()
    assert valid.schema.field("signup").type == pa.timestamp("us")
    assert valid.column("row").type == pa.int64()
    assert valid.column("income")[1].as_py() is None  # the blank field
    assert valid.column("age")[2].as_py() == 42
    assert valid.column("active").to_pylist() == [True, True, True]  # "true", "1", "yes"
    assert result.quarantined.schema.field("income").type == pa.string()  # as it came in


def test_wrong_arrow_type_for_a_whole_column_casts_what_it_can(schema):
    cols = clean_columns(4, np.random.default_rng(5))
    table = to_table(cols).set_column(2, "age", pa.array([30.0, 2.5, float("nan"), 40.0]))
    result = validate_batch(table, schema)
    assert dict(zip(result.quarantined.column("row").to_pylist(), result.quarantined.column(REASONS_COLUMN).to_pylist())) == {
        1: "age: wrong_type (2.5 is not an int)",
        2: "age: null_not_allowed (null)",
    }
    assert result.valid.column("age").to_pylist() == [30, 40]
    assert result.valid.schema.field("age").type == pa.int64()


def test_pandas_dataframe_with_int_column_holding_nan(schema):
    table = to_table(clean_columns(5, np.random.default_rng(6)))
    df = table.to_pandas()
    df.loc[2, "age"] = np.nan
    assert df["age"].dtype.kind == "f"
    result = validate_batch(df, schema)
    assert result.quarantined.column(REASONS_COLUMN).to_pylist() == ["age: null_not_allowed (null)"]
    assert result.valid.schema.field("age").type == pa.int64()
    assert result.rows_valid == 4


def test_nan_or_inf_allowed_when_the_schema_says_so(schema):
    cols = clean_columns(4, np.random.default_rng(8))
    cols["income"][0] = float("nan")
    cols["income"][1] = float("inf")
    data = schema.to_dict()
    data["columns"][3]["allow_nan_or_inf"] = True
    assert validate_batch(to_table(cols), schema).rows_quarantined == 2
    assert validate_batch(to_table(cols), Schema.from_dict(data)).rows_quarantined == 0


def test_long_string_values_are_cut_in_reasons(schema):
    cols = clean_columns(2, np.random.default_rng(9))
    cols["color"][0] = "x" * 100
    result = validate_batch(to_table(cols), schema)
    assert result.quarantined.column(REASONS_COLUMN)[0].as_py() == (
        "color: unseen_category ('" + "x" * 40 + "...' not in domain)"
    )


def test_duplicates_across_two_batches_keep_the_first_occurrence(schema):
    rng = np.random.default_rng(10)
    first = clean_columns(100, rng, first_id=0)
    second = clean_columns(100, rng, first_id=100)
    second["id"][5] = 42  # seen in the first batch
    second["id"][7] = 150  # row 50 of this batch holds 150 too: row 7 comes first, row 50 is the duplicate
    second["id"][60] = 107  # repeats row 7's original id, which row 7 no longer holds: not a duplicate
    tracker = KeyTracker()
    a = validate_batch(to_table(first), schema, keys=tracker)
    b = validate_batch(to_table(second), schema, keys=tracker)
    assert a.rows_quarantined == 0
    assert b.quarantined.column("row").to_pylist() == [5, 50]
    assert b.quarantined.column(REASONS_COLUMN).to_pylist() == [
        "id: duplicate_key (42 repeats an earlier row)",
        "id: duplicate_key (150 repeats an earlier row)",
    ]
    assert tracker.next_batch_index == 2
    assert len(tracker) == 198  # 100 + the second batch's ids less 105 (now 42) and 160 (now 107)
    # within one batch only, the cross-batch duplicate is not visible
    alone = validate_batch(to_table(second), schema)
    assert alone.quarantined.column("row").to_pylist() == [50]


def test_collecting_keys_first_gives_the_same_verdicts_in_any_order(schema):
    rng = np.random.default_rng(11)
    batches = []
    for b in range(4):
        cols = clean_columns(60, rng, first_id=b * 60)
        cols["id"] = rng.integers(0, 150, 60).tolist()  # many repeats, within and across batches
        batches.append(to_table(cols))
    sequential = KeyTracker()
    expected = [validate_batch(t, schema, keys=sequential).quarantined.column("row").to_pylist() for t in batches]
    # way (b): each batch's keys collected separately (as parallel tasks would), merged in shuffled order
    parts = []
    for i, t in enumerate(batches):
        part = KeyTracker()
        part.add_batch(t, schema, batch_index=i)
        parts.append(part)
    for order in ([3, 1, 0, 2], [0, 1, 2, 3], [2, 3, 1, 0]):
        merged = KeyTracker()
        for i in order:
            merged = merged.merge(parts[i])
        got = [
            validate_batch(t, schema, keys=merged, batch_index=i).quarantined.column("row").to_pylist()
            for i, t in reversed(list(enumerate(batches)))
        ][::-1]
        assert got == expected
    ids = [i for t in batches for i in t.column("id").to_pylist()]
    seen: set[int] = set()
    brute = []
    for i in ids:
        brute.append(i in seen)
        seen.add(i)
    assert [r for e in expected for r in e] == [row % 60 for row, dup in enumerate(brute) if dup]


def test_key_tracker_first_position_wins_whatever_the_recording_order():
    late, early = KeyTracker(), KeyTracker()
    late.add(np.array([5, 6], dtype=np.uint64), batch_index=3)
    early.add(np.array([6], dtype=np.uint64), batch_index=1)
    for tracker in (late.merge(early), early.merge(late)):
        dup = tracker.observe(np.array([5, 6], dtype=np.uint64), batch_index=3)
        assert dup.tolist() == [False, True]
    late.add(np.array([6], dtype=np.uint64), batch_index=1)  # recorded after, still earlier in input order
    assert late.observe(np.array([5, 6], dtype=np.uint64), batch_index=3).tolist() == [False, True]


def test_key_tracker_is_memory_light():
    tracker = KeyTracker()
    for b in range(20):
        tracker.add(np.arange(b * 10_000, (b + 1) * 10_000, dtype=np.uint64))
    assert len(tracker) == 200_000
    assert tracker.nbytes == 16 * 200_000
    assert tracker.observe(np.array([123_456, 10**9], dtype=np.uint64)).tolist() == [True, False]


def test_string_and_compound_keys_hash_alike_across_arrow_types():
    schema = Schema.from_dict(
        {"columns": [{"name": "k", "type": "string"}, {"name": "n", "type": "int"}], "key": ["k", "n"]}
    )
    a = pa.table({"k": pa.array(["a", "b", "ab", ""], pa.string()), "n": pa.array([1, 1, 2, 3], pa.int32())})
    b = pa.table({"k": pa.array(["ab", "a", "b", ""], pa.large_string()), "n": pa.array(["2", "1", "9", "3"])})
    tracker = KeyTracker()
    assert validate_batch(a, schema, keys=tracker).rows_quarantined == 0
    result = validate_batch(b, schema, keys=tracker)
    assert result.quarantined.column(REASONS_COLUMN).to_pylist() == ["k,n: duplicate_key (key repeats an earlier row)"] * 3
    assert result.valid.column("k").to_pylist() == ["b"]
    (anomaly,) = result.anomalies
    assert (anomaly.column, anomaly.count) == ("k,n", 3)


def test_string_hash_has_no_false_duplicates():
    schema = Schema.from_dict({"columns": [{"name": "k", "type": "string"}], "key": ["k"]})
    values = [f"user-{i}" for i in range(100_000)] + ["x" * i for i in range(200)] + ["\x00" * i for i in range(1, 40)]
    hashes, present = key_hashes(pa.table({"k": values}), schema)
    assert present.all()
    assert len(np.unique(hashes)) == len(values)
    sliced = pa.table({"k": values}).slice(5, 10)
    again, _ = key_hashes(sliced, schema)
    assert again.tolist() == hashes[5:15].tolist()


def test_null_keys_are_not_duplicates():
    schema = Schema.from_dict({"columns": [{"name": "k", "type": "int"}], "key": ["k"]})
    result = validate_batch(pa.table({"k": [None, None, 1, 1]}), schema)
    assert result.quarantined.column(REASONS_COLUMN).to_pylist() == ["k: duplicate_key (1 repeats an earlier row)"]


def test_inferred_schema_accepts_its_own_data():
    cols = clean_columns(300, np.random.default_rng(12))
    table = to_table(cols)
    schema = infer_schema(table, label="churn", key="id")
    result = validate_batch(table, schema)
    assert result.rows_valid == 300 and result.report.ok
    assert validate_batch(table.to_pandas(), schema).report.ok


def test_report_merges_batches_into_the_cli_shape(schema):
    report = ValidationReport()
    tracker = KeyTracker()
    total = 0
    for seed in range(3):
        table, expected = planted(seed, n=200)
        result = validate_batch(table.set_column(1, "id", pc.add(table.column("id"), seed * 1000)), schema, keys=tracker)
        report.add(result)
        total += len(expected)
    data = report.to_dict()
    assert data["rows_in"] == 600
    assert data["rows_quarantined"] == total
    assert data["rows_valid"] + data["rows_quarantined"] == data["rows_in"]
    assert all(set(a) == {"column", "kind", "count", "message"} for a in data["anomalies"])
    assert sum(a["count"] for a in data["anomalies"]) >= total
    assert ValidationReport.from_dict(data) == report
    halves = ValidationReport.from_dict(data).merge(ValidationReport.from_dict(data)).to_dict()
    assert halves["rows_in"] == 1200
    assert [a["count"] for a in halves["anomalies"]] == [2 * a["count"] for a in data["anomalies"]]
    assert halves["anomalies"][0]["message"].startswith(f"{2 * data['anomalies'][0]['count']} ")


def test_anomaly_message_counts_singular_and_plural():
    assert Anomaly("k", "duplicate_key", 1, "with a repeated key").message == "1 row with a repeated key"
    assert Anomaly("x", "wrong_type", 2, "of 'x' cannot be read").message == "2 values of 'x' cannot be read"
    assert Anomaly.from_dict(Anomaly("x", "wrong_type", 2, "of 'x' cannot be read").to_dict()).hint == "of 'x' cannot be read"


def test_raise_for_anomalies_uses_exit_code_1(schema):
    table, _ = planted(3)
    report = validate_batch(table, schema).report
    with pytest.raises(ChecksFailedError) as info:
        report.raise_for_anomalies()
    assert info.value.exit_code == 1
    assert "rows quarantined" in str(info.value)
    ValidationReport().raise_for_anomalies()  # nothing wrong: no error


def test_revalidating_a_quarantine_file_rebuilds_the_reasons(schema):
    table, _ = planted(5)
    quarantined = validate_batch(table, schema).quarantined
    again = validate_batch(quarantined, schema)
    assert again.quarantined.column_names == quarantined.column_names  # one __reasons, rebuilt
    assert all(a.kind != "unexpected_column" for a in again.anomalies)

    def non_key(reasons):
        return {e for e in parse_reasons(reasons) if e[1] != "duplicate_key"}

    before = {r["row"]: non_key(r[REASONS_COLUMN]) for r in quarantined.to_pylist()}
    after = {r["row"]: non_key(r[REASONS_COLUMN]) for r in again.quarantined.to_pylist()}
    assert {k: v for k, v in before.items() if v} == {k: v for k, v in after.items() if v}
    fixed = to_table(clean_columns(3, np.random.default_rng(0))).append_column(REASONS_COLUMN, pa.array(["old"] * 3))
    result = validate_batch(fixed, schema)
    assert result.rows_valid == 3 and REASONS_COLUMN not in result.valid.column_names


def test_empty_batch(schema):
    table = to_table(clean_columns(0, np.random.default_rng(0)))
    result = validate_batch(table, schema)
    assert (result.rows_in, result.rows_valid, result.rows_quarantined) == (0, 0, 0)
    assert result.quarantined.column_names[-1] == REASONS_COLUMN


def test_threads_give_the_same_result(schema):
    table, expected = planted(13, n=120_000, rate=0.001)
    one = validate_batch(table, schema, threads=1)
    two = validate_batch(table, schema, threads=2)
    assert one.valid.equals(two.valid) and rows(one.quarantined) == rows(two.quarantined)
    assert one.anomalies == two.anomalies
    assert one.rows_quarantined == len(expected)


def test_chunked_input_is_handled(schema):
    table, expected = planted(14, n=300)
    chunked = pa.concat_tables([table.slice(0, 100), table.slice(100, 150), table.slice(250)])
    assert chunked.column("age").num_chunks == 3
    result = validate_batch(chunked, schema)
    assert set(result.quarantined.column("row").to_pylist()) == set(expected)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_csv_strings_give_the_same_verdicts_plus_wrong_type(schema, seed):
    table, expected = planted(seed, n=200)
    rng = np.random.default_rng(seed)
    strings = {}
    for name in table.column_names:
        values = table.column(name).to_pylist()
        strings[name] = [None if v is None else str(v) for v in values]
    expected = {row: set(checks) for row, checks in expected.items()}
    for column, bad in (("income", "abc"), ("age", "twelve"), ("signup", "soon"), ("active", "maybe")):
        for row in range(table.num_rows):
            if rng.random() < 0.03 and not any(c == column for c, _ in expected.get(row, ())):
                strings[column][row] = bad
                expected.setdefault(row, set()).add((column, "wrong_type"))
    csv_like = pa.table({k: pa.array(v, pa.string()) for k, v in strings.items()})
    result = validate_batch(csv_like, schema)
    got = {
        int(row): parse_reasons(reasons)
        for row, reasons in zip(result.quarantined.column("row").to_pylist(), result.quarantined.column(REASONS_COLUMN).to_pylist())
    }
    assert got == expected
    assert result.valid.schema.field("age").type == pa.int64()


def test_nanosecond_and_zoned_datetimes_are_checked_in_utc():
    schema = Schema.from_dict(
        {"columns": [{"name": "t", "type": "datetime", "min": "2024-01-01T00:00:00Z", "max": "2024-12-31T23:59:59+00:00"}]}
    )
    ns = pa.array([1_704_067_200_000_000_001, 1_600_000_000_000_000_000], pa.timestamp("ns", tz="Europe/Paris"))
    result = validate_batch(pa.table({"t": ns}), schema)
    assert result.rows_valid == 1
    assert result.quarantined.column(REASONS_COLUMN)[0].as_py().startswith("t: out_of_range (2020-09-13")
    texts = pa.table({"t": ["2024-06-01T12:00:00+02:00", "2023-12-31T23:30:00-01:00", "2025-01-01"]})
    result = validate_batch(texts, schema)
    assert result.quarantined.column("t").to_pylist() == ["2025-01-01"]
    assert result.valid.column("t").to_pylist() == [datetime(2024, 6, 1, 10), datetime(2024, 1, 1, 0, 30)]
    assert schema.column("t").min == "2024-01-01T00:00:00Z"  # kept as written
