"""``raymlops labels import-label-studio``: a Label Studio export -> the long annotation table."""

from __future__ import annotations

import os
from typing import Any

from raymlops.core.config import Settings
from raymlops.labeling.io import write_parquet
from raymlops.labeling.label_studio import read_export
from raymlops.labeling.record import file_artifact, output_artifact, record_step
from raymlops.metadata import MetadataAPI, connect

__all__ = ["import_label_studio"]


def import_label_studio(
    export: str,
    *,
    out: str,
    key: str | None = None,
    from_name: str | None = None,
    gold_out: str | None = None,
    settings: Settings | None = None,
    store: MetadataAPI | None = None,
) -> dict[str, Any]:
    """Read the export's annotations (cancelled ones left out) into ``out``; ground-truth ones also to ``gold_out``.

    Raises:
        LabelStudioFormatError: not a Label Studio export (exit code 2).
    """
    settings = settings or Settings.resolve()
    store = store or connect(settings)
    ann, gold = read_export(export, key=key, from_name=from_name)
    path = write_parquet(ann, out)
    outputs = {"annotations": output_artifact(path, name="annotations", df=ann, source="label-studio")}
    if gold_out is not None:
        outputs["gold"] = output_artifact(write_parquet(gold, gold_out), name="gold", df=gold, source="label-studio ground truth")
    arts = record_step(
        store, "ImportLabelStudio", name=os.path.basename(export),
        inputs={"export": file_artifact(store, export, name=os.path.basename(export))}, outputs=outputs,
    )
    return {
        "annotations": int(len(ann)),
        "tasks": int(ann["task"].nunique()) if len(ann) else 0,
        "workers": int(ann["worker"].nunique()) if len(ann) else 0,
        "ground_truth": int(len(gold)),
        "out": path,
        "gold_out": gold_out,
        "artifacts": {k: a.id for k, a in arts.items()},
    }
