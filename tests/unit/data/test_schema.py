"""Schema inference (mergeable over batches) and the editable JSON schema file."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pydantic
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raymlops.data.schema import ColumnSchema, Schema, SchemaBuilder, infer_schema
from raymlops.core.errors import InvalidInputError


def sample_table(n: int = 500, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    income = rng.gamma(2.0, 20_000.0, n)
    income[rng.random(n) < 0.05] = np.nan  # becomes null through pandas, stays NaN in arrow
    return pa.table(
        {
            "id": pa.array(np.arange(n), pa.int64()),
            "age": pa.array(rng.integers(18, 90, n), pa.int32()),
            "income": pa.array(income, from_pandas=True),
            "color": pa.array(rng.choice(["red", "green", "blue"], n)),
            "city": pa.array([f"city-{i}" for i in rng.integers(0, 1_000, n)]),
            "active": pa.array(rng.random(n) < 0.5),
            "signup": pa.array(
                np.datetime64("2021-01-01T00:00:00", "s") + rng.integers(0, 3 * 365 * 86400, n).astype("timedelta64[s]")
            ),
            "churn": pa.array(rng.choice(["no", "yes"], n)),
        }
    )


def test_infer_types_ranges_domains_from_arrow():
    table = sample_table()
    schema = infer_schema(table, label="churn", key="id")
    types = {c.name: c.type for c in schema.columns}
    assert types == {
        "id": "int",
        "age": "int",
        "income": "float",
        "color": "string",
        "city": "string",
        "active": "bool",
        "signup": "datetime",
        "churn": "string",
    }
    age = schema.column("age")
    assert (age.min, age.max) == (pc_min(table, "age"), pc_max(table, "age"))
    assert not age.nullable
    assert schema.column("income").nullable  # from_pandas=True made the NaNs null
    assert schema.column("color").domain == ("blue", "green", "red")
    assert schema.column("city").domain is None  # more than 100 distinct values
    assert schema.column("churn").domain is None  # the label's values are its classes
    assert schema.label is not None and schema.label.classes is not None
    assert sorted(schema.label.classes) == ["no", "yes"]
    assert all(c.definition == "" for c in schema.label.classes.values())
    assert schema.key == ("id",)
    signup = schema.column("signup")
    assert signup.min is not None and signup.max is not None and signup.min < signup.max


def pc_min(table: pa.Table, name: str) -> int:
    return min(table.column(name).to_pylist())


def pc_max(table: pa.Table, name: str) -> int:
    return max(table.column(name).to_pylist())


def test_max_domain_limits_the_domain():
    table = pa.table({"c": [f"v{i}" for i in range(10)]})
    assert infer_schema(table, max_domain=10).column("c").domain == tuple(f"v{i}" for i in range(10))
    assert infer_schema(table, max_domain=9).column("c").domain is None


def test_nan_in_arrow_float_column_is_excluded_from_range_and_flagged_unless_allowed():
    table = pa.table({"x": pa.array([1.0, float("nan"), 3.0, float("inf")])})
    col = infer_schema(table).column("x")
    assert (col.min, col.max, col.allow_nan_or_inf, col.nullable) == (1.0, 3.0, False, False)
    b = SchemaBuilder()
    b.update(table)
    assert b.build(allow_nan_or_inf=True).column("x").allow_nan_or_inf is True


def test_pandas_int_column_with_nan_is_inferred_int_and_nullable():
    df = pd.DataFrame({"n": [1, None, 3], "x": [0.5, None, 2.0], "k": [1.0, 2.0, 3.0]})
    assert df["n"].dtype.kind == "f"
    schema = infer_schema(df)
    assert schema.column("n").to_dict() == {"name": "n", "type": "int", "nullable": True, "min": 1, "max": 3}
    assert schema.column("x").type == "float"
    assert schema.column("k").type == "float"  # no missing value: a real float column


def test_all_null_column_is_a_nullable_string():
    schema = infer_schema(pa.table({"x": pa.nulls(3), "y": [1, 2, 3]}))
    assert schema.column("x").to_dict() == {"name": "x", "type": "string", "nullable": True, "domain": None}


def test_int_label_classes_are_typed():
    schema = infer_schema(pa.table({"y": [2, 0, 1, 1]}), label="y")
    assert schema.to_dict()["label"] == {
        "column": "y",
        "classes": {"0": {"definition": ""}, "1": {"definition": ""}, "2": {"definition": ""}},
    }
    assert schema.label_values() == [0, 1, 2]


def test_float_label_has_no_classes():
    schema = infer_schema(pa.table({"y": [0.5, 1.5]}), label="y")
    assert schema.label is not None and schema.label.classes is None
    assert schema.label_values() is None


def test_unknown_label_or_key_column_is_an_error():
    with pytest.raises(InvalidInputError, match="'nope' is not in the data"):
        infer_schema(pa.table({"y": [1]}), label="nope")
    with pytest.raises(InvalidInputError, match="'nope' is not in the data"):
        infer_schema(pa.table({"y": [1]}), key=["y", "nope"])


def test_unsupported_arrow_type_names_the_column():
    table = pa.table({"tags": pa.array([[1, 2], [3]])})
    with pytest.raises(InvalidInputError, match="column 'tags' has arrow type list<item: int64>"):
        infer_schema(table)


def test_build_without_update_is_an_error():
    with pytest.raises(InvalidInputError, match="call update"):
        SchemaBuilder().build()


def test_column_missing_from_some_batches_is_nullable():
    a, b = SchemaBuilder(), SchemaBuilder()
    a.update(pa.table({"x": [1, 2], "extra": ["u", "v"]}))
    b.update(pa.table({"x": [3]}))
    schema = a.merge(b).build()
    assert schema.column("extra").nullable
    assert not schema.column("x").nullable


def test_merge_widens_int_to_float():
    a, b = SchemaBuilder(), SchemaBuilder()
    a.update(pa.table({"x": [5, 7]}))
    b.update(pa.table({"x": [0.25]}))
    col = b.merge(a).build().column("x")
    assert (col.type, col.min, col.max) == ("float", 0.25, 7.0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), cuts=st.lists(st.integers(0, 300), max_size=4))
def test_merged_builders_equal_one_pass(seed, cuts):
    table = sample_table(300, seed)
    bounds = sorted({0, 300, *cuts})
    builders = []
    for lo, hi in zip(bounds, bounds[1:]):
        b = SchemaBuilder(max_domain=50)
        b.update(table.slice(lo, hi - lo))
        builders.append(b)
    rng = np.random.default_rng(seed)
    rng.shuffle(builders)
    merged = builders[0]
    for b in builders[1:]:
        merged = merged.merge(b)
    one = infer_schema(table, label="churn", key="id", max_domain=50)
    got = merged.build(label="churn", key="id")
    # column order may follow the first builder; everything else is identical
    assert {c.name: c for c in got.columns} == {c.name: c for c in one.columns}
    assert got.label == one.label and got.key == one.key


def test_dict_and_json_round_trip(tmp_path):
    schema = infer_schema(sample_table(), label="churn", key=["id"])
    assert Schema.from_dict(schema.to_dict()) == schema
    path = schema.save(tmp_path / "sub" / "schema.json")
    assert Schema.load(path) == schema
    text = path.read_text()
    assert json.loads(text) == schema.to_dict()
    assert '\n  "columns": [' in text  # indented for people


def test_json_format_is_documented_shape():
    schema = infer_schema(pa.table({"a": [1, 5], "f": [0.5, 1.0], "s": ["x", "y"], "b": [True, False]}))
    assert schema.to_dict() == {
        "version": 1,
        "columns": [
            {"name": "a", "type": "int", "nullable": False, "min": 1, "max": 5},
            {"name": "f", "type": "float", "nullable": False, "min": 0.5, "max": 1.0, "allow_nan_or_inf": False},
            {"name": "s", "type": "string", "nullable": False, "domain": ["x", "y"]},
            {"name": "b", "type": "bool", "nullable": False},
        ],
        "label": None,
        "key": [],
        "excluded": [],
    }


def test_inference_excludes_row_ids_constants_and_timestamps_with_why():
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame(
        {
            "rid": np.arange(1000, 1000 + n),  # an integer sequence
            "uuid": [f"{x:032x}" for x in rng.integers(0, 2**62, n)],  # unique strings
            "serial": rng.permutation(n) * 7919 + 10**6,  # unique, sparse ints
            "x": rng.normal(size=n),  # unique floats are measurements, not ids
            "c": rng.choice(["a", "b", "c"], n),
            "k": np.full(n, 3),
            "t": pd.date_range("2026-01-01", periods=n, freq="h"),
            "y": rng.integers(0, 2, n),
        }
    )
    schema = infer_schema(df, label="y", key="uuid")
    assert schema.to_dict()["excluded"] == [
        {"column": "rid", "reason": "unique per row (key-like: an integer sequence)"},
        {"column": "serial", "reason": "unique per row (key-like)"},
        {"column": "k", "reason": "constant (one value in every row)"},
        {"column": "t", "reason": "a timestamp: raw time does not generalise (derive features from it, or remove this exclusion)"},
    ]
    assert schema.not_features()["uuid"] == "the key (identifies a row)"  # the key is not listed twice
    # a few rows cannot tell an id from a feature; a repeated value is not an id
    assert infer_schema(df.head(10), label="y").to_dict()["excluded"][0]["column"] == "k"
    repeated = df.assign(rid=np.r_[np.arange(n - 1), 0])
    assert "rid" not in {e["column"] for e in infer_schema(repeated, label="y").to_dict()["excluded"]}


def test_exclusions_merge_across_batches_and_are_checked_on_load():
    n = 5000  # beyond exact counting: the KMV estimate decides
    a, b = SchemaBuilder(), SchemaBuilder()
    a.update(pa.table({"id": list(range(n)), "v": [i % 7 for i in range(n)]}))
    b.update(pa.table({"id": list(range(n, 2 * n)), "v": [i % 7 for i in range(n)]}))
    assert [e.column for e in a.merge(b).build().excluded] == ["id"]
    with pytest.raises(InvalidInputError, match="excluded column 'nope'"):
        Schema.from_dict({"columns": [{"name": "x", "type": "int"}], "excluded": [{"column": "nope", "reason": ""}]})


def test_hand_written_minimal_schema_uses_defaults():
    schema = Schema.from_dict({"columns": [{"name": "x", "type": "int"}]})
    col = schema.column("x")
    assert (col.nullable, col.min, col.max, col.domain) == (True, None, None, None)
    assert schema.label is None and schema.key == ()


def test_datetime_bounds_accept_offsets_and_compare_in_utc():
    col = ColumnSchema(name="t", type="datetime", min="2024-01-01T02:00:00+02:00", max="2024-01-01T00:00:00Z")
    assert col.min is not None  # equal instants in UTC: min == max is fine
    with pytest.raises(ValueError, match="greater than max"):
        ColumnSchema(name="t", type="datetime", min="2024-01-01T03:00:00+02:00", max="2024-01-01T00:00:00")
    tz_table = pa.table({"t": pa.array([datetime(2024, 1, 1, 12, tzinfo=timezone.utc)], pa.timestamp("us", tz="UTC"))})
    assert infer_schema(tz_table).column("t").min == "2024-01-01T12:00:00"


def write(tmp_path, text: str):
    path = tmp_path / "schema.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"columns": [{"name": "a", "type": "int"},]}', "is not valid JSON: Expecting value at line 1"),
        ("[]", 'must be a JSON object with "columns"'),
        ('{"columns": []}', "the schema lists no columns"),
        ('{"columns": [{"name": "a", "type": "integer"}]}', "columns[0] ('a').type: Input should be 'int'"),
        ('{"columns": [{"name": "a", "type": "int", "mxa": 3}]}', "columns[0] ('a').mxa: unknown field (allowed: name, type"),
        ('{"columns": [{"name": "a", "type": "int", "min": "zero"}]}', "min of an int column must be a number or null"),
        ('{"columns": [{"name": "a", "type": "int", "min": 5, "max": 1}]}', "min 5 is greater than max 1"),
        ('{"columns": [{"name": "a", "type": "int", "nullable": "no"}]}', "columns[0] ('a').nullable: Input should be a valid boolean"),
        ('{"columns": [{"name": "a", "type": "string", "min": 1}]}', "min applies to int, float and datetime columns"),
        ('{"columns": [{"name": "a", "type": "int", "domain": ["1"]}]}', "domain applies to string columns"),
        ('{"columns": [{"type": "int"}]}', "columns[0].name: required field is missing"),
        ('{"columns": [{"name": "a", "type": "int"}, {"name": "a", "type": "int"}]}', "column 'a' is listed twice"),
        ('{"columns": [{"name": "a", "type": "int"}], "label": {"column": "y"}}', "label column 'y' is not among the columns"),
        ('{"columns": [{"name": "a", "type": "int"}], "key": ["id"]}', "key column 'id' is not among the columns"),
        (
            '{"columns": [{"name": "y", "type": "int"}], "label": {"column": "y", "classes": {"cat": {}}}}',
            "label class 'cat' is not an int",
        ),
        (
            '{"columns": [{"name": "y", "type": "int"}], "label": {"column": "y", "classes": {"1": {"defn": ""}}}}',
            "label.classes.'1'.defn: unknown field (allowed: definition)",
        ),
        ('{"columns": [{"name": "a", "type": "int", "min": 1, "min": 2}]}', "the key 'min' appears twice"),
        ('{"version": 2, "columns": [{"name": "a", "type": "int"}]}', "version: Input should be 1"),
    ],
)
def test_malformed_schema_file_gives_clear_error(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(InvalidInputError) as info:
        Schema.load(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert info.value.exit_code == 2


def test_malformed_file_lists_every_problem(tmp_path):
    path = write(tmp_path, '{"columns": [{"name": "a", "type": "int", "mni": 0}, {"name": "b", "type": "flot"}]}')
    with pytest.raises(InvalidInputError) as info:
        Schema.load(path)
    assert len(info.value.details) == 2
    assert "columns[0] ('a').mni" in str(info.value) and "columns[1] ('b').type" in str(info.value)


def test_json_error_names_the_line(tmp_path):
    path = write(tmp_path, '{\n  "columns": [\n    {"name": "a" "type": "int"}\n  ]\n}')
    with pytest.raises(InvalidInputError, match="Expecting .,. delimiter at line 3 column 18"):
        Schema.load(path)


def test_missing_schema_file_says_how_to_make_one(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist.*--save-schema"):
        Schema.load(tmp_path / "nope.json")


def test_column_lookup_of_unknown_name_lists_columns():
    schema = Schema.from_dict({"columns": [{"name": "a", "type": "int"}]})
    with pytest.raises(InvalidInputError, match=r"column 'b' is not in the schema \(columns: a\)"):
        schema.column("b")


def test_schema_is_immutable_and_comparable():
    a = Schema.from_dict({"columns": [{"name": "a", "type": "float", "min": 0.0}]})
    b = Schema.from_dict({"columns": [{"name": "a", "type": "float", "min": 0.0}]})
    assert a == b
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        a.column("a").min = 1.0  # type: ignore[misc]
