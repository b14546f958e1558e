"""Schema inference from sketches: exact below 2**53, outward beyond, mergeable in any order."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from raymlops.data.schema import SchemaBuilder, infer_schema
from raymlops.data.validation import validate_batch


def _merged(*tables: pa.Table, max_domain: int = 100) -> SchemaBuilder:
    builders = []
    for t in tables:
        b = SchemaBuilder(max_domain=max_domain)
        b.update(t)
        builders.append(b)
    out = builders[0]
    for b in builders[1:]:
        out = out.merge(b)
    return out


def test_int_ranges_are_exact_below_2_53():
    values = [-(2**53) + 1, 5, 2**53 - 1]
    col = infer_schema(pa.table({"i": pa.array(values, pa.int64())})).column("i")
    assert (col.min, col.max) == (-(2**53) + 1, 2**53 - 1)


def test_int_ranges_beyond_2_53_widen_outward_and_clip_to_int64():
    values = [2**53 + 1, 2**53 + 7, 2**62 + 3]
    col = infer_schema(pa.table({"i": pa.array(values, pa.int64())})).column("i")
    assert col.min <= min(values) and col.max >= max(values)
    assert min(values) - col.min <= 4 and col.max - max(values) <= 2**10
    extremes = pa.table({"i": pa.array([-(2**63), 2**63 - 1], pa.int64())})
    schema = infer_schema(extremes)
    assert (schema.column("i").min, schema.column("i").max) == (-(2**63), 2**63 - 1)
    assert validate_batch(extremes, schema).rows_quarantined == 0


def test_int_label_beyond_2_53_gets_no_classes():
    schema = infer_schema(pa.table({"y": pa.array([1, 2**60], pa.int64())}), label="y")
    assert schema.label is not None and schema.label.classes is None


def test_bool_label_classes_come_from_value_counts():
    schema = infer_schema(pa.table({"y": [True, False, None, True]}), label="y")
    assert schema.label_values() == [False, True]
    assert schema.column("y").nullable


def test_bool_and_int_batches_give_one_int_range_in_any_order():
    flags = pa.table({"x": [True, True]})
    ints = pa.table({"x": [5, 7]})
    results = {
        tuple(sorted(_merged(*order).build().column("x").to_dict().items()))
        for order in ([flags, flags, ints], [ints, flags, flags], [flags, ints, flags])
    }
    assert results == {tuple(sorted({"name": "x", "type": "int", "nullable": False, "min": 1, "max": 7}.items()))}


def test_a_batch_without_values_keeps_the_domain():
    typed = pa.table({"c": ["u", "v"]})
    empty = pa.table({"c": pa.nulls(2)})
    col = _merged(typed, empty).build().column("c")
    assert (col.domain, col.nullable) == (("u", "v"), True)


def test_builders_with_different_max_domain_merge_to_the_smaller():
    a, b = SchemaBuilder(max_domain=5), SchemaBuilder(max_domain=2)
    a.update(pa.table({"c": ["p", "q"], "y": [0, 1]}))
    b.update(pa.table({"c": ["q"], "y": [1]}))
    merged = a.merge(b)
    assert merged.max_domain == 2
    schema = merged.build(label="y")
    assert schema.column("c").domain == ("p", "q") and schema.label_values() == [0, 1]
    c = SchemaBuilder(max_domain=2)
    c.update(pa.table({"c": ["r"], "y": [2]}))
    schema = merged.merge(c).build(label="y")
    assert schema.column("c").domain is None and schema.label.classes is None


@pytest.mark.parametrize("max_domain", [0, 1, 3])
def test_max_domain_counts_distinct_values_exactly(max_domain):
    rng = np.random.default_rng(max_domain)
    values = [f"v{i}" for i in rng.integers(0, 3, 50)]
    domain = infer_schema(pa.table({"c": values}), max_domain=max_domain).column("c").domain
    distinct = sorted(set(values))
    assert domain == (tuple(distinct) if 0 < len(distinct) <= max_domain else None)


def test_datetime_range_from_microseconds():
    t = pa.array(np.array(["2021-03-04T05:06:07.000008", "1999-12-31T23:59:59"], dtype="datetime64[us]"))
    col = infer_schema(pa.table({"t": t})).column("t")
    assert (col.min, col.max) == ("1999-12-31T23:59:59", "2021-03-04T05:06:07.000008")
