from __future__ import annotations

import json

import jsonschema
import pandas as pd
import pytest

from raymlops.labeling import LabelStudioFormatError, labeling_config, parse_export, read_export, tasks_json
from raymlops.labeling.label_studio import annotator_id

from .conftest import load_fixture

# Label Studio's documented task import format (labelstud.io, "Import pre-annotated data"):
# a list of tasks, each with "data" and optional "predictions" holding "model_version",
# "score" and "result" regions with from_name, to_name, type and value.
TASK_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {"type": "object"},
            "predictions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["result"],
                    "properties": {
                        "model_version": {"type": "string"},
                        "score": {"type": "number"},
                        "result": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["from_name", "to_name", "type", "value"],
                                "properties": {"type": {"const": "choices"}, "value": {"type": "object", "required": ["choices"], "properties": {"choices": {"type": "array", "items": {"type": "string"}, "minItems": 1}}}},
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_exported_tasks_follow_the_documented_schema_and_are_json():
    rows = pd.DataFrame({"id": [1, 2], "x": [0.5, float("nan")], "note": ["a", None]})
    tasks = tasks_json(rows, key="id", labels=[0, 1], scores=[0.7, 0.9], model_version="m@1")
    jsonschema.validate(tasks, TASK_SCHEMA)
    assert json.loads(json.dumps(tasks, allow_nan=False)) == tasks
    assert tasks[1]["data"] == {"table": {"x": None, "note": None}, "id": 2}


def test_exported_tasks_are_what_label_studio_sdk_validated():
    fx = load_fixture("label_studio.json")  # label-studio-sdk 2.1.2, in its own virtualenv
    assert fx["prediction_errors"] == [[], []] and fx["tasks_missing_data"] == []
    rows = pd.DataFrame({"id": [1, 2], "mean_radius": [10.5, 20.25], "note": ["a", None]})
    assert tasks_json(rows, key="id", labels=["benign", "malignant"], scores=[0.61, 0.93], model_version="bc@3") == fx["tasks"]
    assert labeling_config(["benign", "malignant"]) == fx["config"]
    jsonschema.validate(fx["tasks"], TASK_SCHEMA)


def test_import_reads_an_export_as_label_studios_converter_does():
    fx = load_fixture("label_studio.json")
    ann, gold = parse_export(fx["export"])
    theirs = sorted(
        (r["id"], annotator_id(r["completed_by"]), r["output"]["label"][0]["choices"][0])
        for r in fx["converter"] if r["output"]
    )
    assert sorted(zip(ann["task"], ann["worker"], ann["label"])) == theirs
    assert gold.to_dict("records") == [{"task": 12, "label": "malignant"}]


def test_import_by_the_key_the_tasks_carried(tmp_path):
    fx = load_fixture("label_studio.json")
    p = tmp_path / "export.json"
    p.write_text(json.dumps(fx["export"]))
    ann, _ = read_export(str(p), key="id")
    assert sorted(ann["task"].unique().tolist()) == [101, 102]


def test_sdk_sample_annotation_parses():
    fx = load_fixture("label_studio.json")
    ann, _ = parse_export([{"id": 5, "data": {"table": {}}, "annotations": [fx["sample_annotation"]]}])
    assert ann["worker"].tolist() == ["user-1"] and ann["label"].tolist() in (["benign"], ["malignant"])


@pytest.mark.parametrize(
    "export, message",
    [
        ({"data": {}}, "JSON list of tasks"),
        ([{"id": 1}], "export item 0 is not a task"),
        ([{"id": 1, "data": {}, "annotations": [{"id": 9, "result": [{"type": "choices", "from_name": "l", "value": {"choices": ["a"]}}]}]}], "no completed_by"),
        ([{"id": 1, "data": {}, "annotations": [{"id": 9, "completed_by": 2, "result": [{"type": "choices", "from_name": "l", "value": {"choices": ["a", "b"]}}]}]}], r"export task 1: annotation 9 chose \['a', 'b'\]"),
        ([{"data": {}}], "has no 'id'"),
    ],
)
def test_unusable_exports(export, message):
    with pytest.raises(LabelStudioFormatError, match=message):
        parse_export(export)


def test_not_json(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{nope")
    with pytest.raises(LabelStudioFormatError, match="is not JSON"):
        read_export(str(p))
