"""Label Studio JSON: tasks out (with the model's predictions and scores), annotations in.

Label Studio is the annotation tool most teams use; both directions use its own JSON:

- **Tasks to import** (``tasks_json``): a list of ``{"data": {...}, "predictions":
  [{"model_version", "score", "result": [{"from_name", "to_name", "type": "choices",
  "value": {"choices": [label]}}]}]}``. The row's fields go under ``data`` (by default a
  ``Table`` object named ``table`` shows them, see :func:`labeling_config`), the key
  column stays at the top of ``data`` so the answers come back with it.
- **An export** (``read_export``): Label Studio's JSON export, a list of tasks with
  ``annotations``, each with ``completed_by`` (a user id, or a user object) and a
  ``result`` of ``choices``. Cancelled (skipped) annotations are left out, as Label
  Studio's own converter does. One row per (task, annotator) comes out in the long
  annotation table the aggregators read; annotations marked ``ground_truth`` are
  returned too, as gold candidates.

The formats are checked in the tests against Label Studio's documented schema and
against label-studio-sdk's own parser and validator (run in a side virtualenv; its
outputs are kept as test fixtures).

Example:
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"id": [7], "text": ["win money now"]})
    >>> t = tasks_json(rows, key="id", labels=["spam"], scores=[0.55], model_version="spam@3", to_name="text", data_field=None)
    >>> t[0]["data"], t[0]["predictions"][0]["score"], t[0]["predictions"][0]["result"][0]["value"]
    ({'id': 7, 'text': 'win money now'}, 0.55, {'choices': ['spam']})
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from raymlops.labeling.errors import LabelStudioFormatError

__all__ = ["labeling_config", "tasks_json", "read_export", "parse_export", "annotator_id"]


def _plain(v: Any) -> Any:
    """A JSON-safe value (NaN -> None, numpy scalars -> Python)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    return v


def labeling_config(classes: Sequence[Any], *, from_name: str = "label", to_name: str = "table", value: str | None = None, object_tag: str | None = None) -> str:
    """A Label Studio labeling config (XML) whose single-choice control matches our tasks.

    Args:
        classes: the choices.
        from_name: the ``Choices`` control's name.
        to_name: the object tag's name.
        value: the task field the object shows (``$table`` by default: a ``Table`` of the row).
        object_tag: ``Table`` (default), ``Text``, ``Image``, ...
    """
    tag = object_tag or ("Table" if to_name == "table" else "Text")
    value = value or f"${to_name}"
    choices = "".join(f"<Choice value={quoteattr(str(c))}/>" for c in classes)
    return (
        f"<View><{tag} name={quoteattr(to_name)} value={quoteattr(value)}/>"
        f"<Choices name={quoteattr(from_name)} toName={quoteattr(to_name)} choice=\"single\">{choices}</Choices></View>"
    )


def tasks_json(
    rows: pd.DataFrame,
    *,
    key: str | None = None,
    labels: Sequence[Any] | None = None,
    scores: Sequence[float] | None = None,
    model_version: str | None = None,
    from_name: str = "label",
    to_name: str = "table",
    data_field: str | None = "table",
) -> list[dict[str, Any]]:
    """Label Studio tasks for ``rows``, each with the model's prediction and its score.

    Args:
        rows: the rows to label (their columns become the task's data).
        key: the id column: kept at the top of ``data`` so answers come back with it.
        labels, scores: the model's predicted class and a score per row (omit for no prediction).
        model_version: shown in Label Studio (``NAME@VERSION``).
        from_name, to_name: the control and object names of the labeling config.
        data_field: put the row's fields under ``data[data_field]`` (for a ``Table``);
            None puts them at the top of ``data`` (for a ``Text`` on one column).
    """
    out = []
    records = rows.to_dict(orient="records")
    for i, rec in enumerate(records):
        rec = {str(k): _plain(v) for k, v in rec.items()}
        if data_field is None:
            data = rec
        else:
            data = {data_field: {k: v for k, v in rec.items() if k != key}}
            if key is not None:
                data[key] = rec[key]
        task: dict[str, Any] = {"data": data}
        if labels is not None:
            pred = {
                "model_version": str(model_version or "raymlops"),
                "score": float(scores[i]) if scores is not None else 0.0,
                "result": [
                    {"from_name": from_name, "to_name": to_name, "type": "choices", "value": {"choices": [str(_plain(labels[i]))]}}
                ],
            }
            task["predictions"] = [pred]
        out.append(task)
    return out


def annotator_id(completed_by: Any) -> str:
    """The worker id of a ``completed_by``: the user's email if given, else ``user<id>``."""
    if isinstance(completed_by, dict):
        if completed_by.get("email"):
            return str(completed_by["email"])
        if completed_by.get("id") is not None:
            return f"user{completed_by['id']}"
        raise LabelStudioFormatError(f"completed_by {completed_by!r} has neither an id nor an email")
    if completed_by is None or completed_by == {}:
        raise LabelStudioFormatError("an annotation has no completed_by: export with annotator details")
    return f"user{completed_by}"


def parse_export(
    export: list[dict[str, Any]],
    *,
    key: str | None = None,
    from_name: str | None = None,
    task_col: str = "task",
    worker_col: str = "worker",
    label_col: str = "label",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The annotations of a Label Studio export as a long table, and the ground-truth ones.

    Args:
        export: the parsed export JSON (a list of tasks).
        key: take the task id from ``data[key]`` (the key our tasks carried) instead of Label Studio's ``id``.
        from_name: the ``Choices`` control to read when the config has several.

    Returns:
        ``(annotations, ground_truth)``: ``task, worker, label, annotation_id, lead_time,
        created_at`` rows, and ``task, label`` rows of annotations marked ground truth.

    Raises:
        LabelStudioFormatError: not a list of tasks, a task without ``data``/``id``, an
            annotation without ``completed_by``, a multi-choice answer, a missing key.
    """
    if not isinstance(export, list):
        raise LabelStudioFormatError(f"a Label Studio export is a JSON list of tasks, not a {type(export).__name__}")
    rows, gold = [], []
    for i, task in enumerate(export):
        if not isinstance(task, dict) or "data" not in task:
            raise LabelStudioFormatError(f"export item {i} is not a task: it has no 'data'")
        if key is not None:
            if key not in task["data"]:
                raise LabelStudioFormatError(f"export task {task.get('id', i)} has no data field {key!r}; pass the key the tasks were exported with")
            tid = task["data"][key]
        elif "id" in task:
            tid = task["id"]
        else:
            raise LabelStudioFormatError(f"export item {i} has no 'id'; pass --key with a data field that identifies the task")
        for ann in task.get("annotations", task.get("completions", [])) or []:
            if ann.get("was_cancelled") or ann.get("skipped"):
                continue
            choices = [
                r for r in ann.get("result") or []
                if r.get("type") == "choices" and (from_name is None or r.get("from_name") == from_name)
            ]
            if not choices:
                continue
            names = {r.get("from_name") for r in choices}
            if len(names) > 1:
                raise LabelStudioFormatError(
                    f"export task {tid}: annotation {ann.get('id')} answers several choice controls ({', '.join(sorted(map(str, names)))}); pass --from-name"
                )
            picked = choices[0]["value"].get("choices") or []
            if len(picked) != 1:
                raise LabelStudioFormatError(
                    f"export task {tid}: annotation {ann.get('id')} chose {picked!r}; one choice per annotation is needed (a single-choice control)"
                )
            worker = annotator_id(ann.get("completed_by"))
            rows.append(
                {
                    task_col: tid,
                    worker_col: worker,
                    label_col: picked[0],
                    "annotation_id": ann.get("id"),
                    "lead_time": ann.get("lead_time"),
                    "created_at": ann.get("created_at"),
                }
            )
            if ann.get("ground_truth"):
                gold.append({task_col: tid, label_col: picked[0]})
    cols = [task_col, worker_col, label_col, "annotation_id", "lead_time", "created_at"]
    return pd.DataFrame(rows, columns=cols), pd.DataFrame(gold, columns=[task_col, label_col]).drop_duplicates()


def read_export(path: str, **kwargs: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`parse_export` of the JSON file at ``path``.

    Raises:
        LabelStudioFormatError: the file is not JSON, or not an export.
    """
    try:
        with open(path, encoding="utf-8") as f:
            export = json.load(f)
    except FileNotFoundError:
        raise LabelStudioFormatError(f"{path} does not exist; pass the JSON file Label Studio exported") from None
    except json.JSONDecodeError as exc:
        raise LabelStudioFormatError(f"{path} is not JSON (line {exc.lineno}: {exc.msg}); export with the JSON format") from None
    return parse_export(export, **kwargs)
