"""Ingest records Dataset artifacts whose columns use the one column-type vocabulary."""

from __future__ import annotations

from raymlops.core.coltypes import COLUMN_TYPES
from raymlops.data.ingest import ingest_sklearn, record_file


def test_ingested_columns_use_the_column_type_vocabulary(settings, store):
    art = ingest_sklearn("iris", settings=settings, store=store)
    types = {c["name"]: c["type"] for c in art.properties["columns"]}
    assert set(types.values()) <= set(COLUMN_TYPES)
    assert types["sepal_length_cm"] == "float" and types["target"] == "int"
    assert art.properties["rows"] == 150


def test_recording_the_same_bytes_again_reuses_the_artifact(tmp_path, store):
    path = tmp_path / "d.csv"
    path.write_text("a\n1\n")
    first = record_file(path, store=store, rows=1, columns=[{"name": "a", "type": "int"}])
    again = record_file(path, store=store)
    assert again.id == first.id
    executions = store.get_executions(type="Ingest")
    assert [e.state for e in executions] == ["COMPLETE", "CACHED"]
