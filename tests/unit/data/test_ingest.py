"""Ingest records Dataset artifacts whose columns use the one column-type vocabulary, hashed
as every step hashes its outputs."""

from __future__ import annotations

import pandas as pd

from raymlops.artifacts import sha256_file
from raymlops.core.coltypes import COLUMN_TYPES
from raymlops.data.artifacts import dataset_artifact
from raymlops.data.ingest import ingest_sklearn, record_file
from raymlops.data.pipeline import DataPipeline


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


def test_the_pipeline_ingests_a_file_a_step_wrote_as_that_steps_artifact(settings, store, tmp_path):
    """One hash for one file: lineage runs from a step's output through training's ingest."""
    path = tmp_path / "labels.csv"
    path.write_text("a,y\n1,0\n2,1\n")
    with store.run_execution("AggregateLabels") as step:
        written = step.add_output(dataset_artifact(str(path), name="labels"), role="labels")
    raw = DataPipeline(settings, store=store).ingest(str(path))
    assert raw.id == written.id and raw.sha256 == sha256_file(path)
    assert [e.state for e in store.get_executions(type="Ingest")] == ["CACHED"]


def test_a_folder_ingests_with_the_hash_dataset_artifact_records(settings, store, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    for i in range(2):
        pd.DataFrame({"a": [i], "y": [i]}).to_parquet(folder / f"part-{i}.parquet", index=False)
    raw = DataPipeline(settings, store=store).ingest(str(folder))
    assert raw.sha256 == dataset_artifact(str(folder)).sha256
    subset = DataPipeline(settings, store=store).ingest(str(folder / "part-0*.parquet"))
    assert subset.sha256 == sha256_file(folder / "part-0.parquet")  # one file read: that file's own hash
