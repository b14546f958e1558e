"""Peer outputs kept as test fixtures for the labeling package (run once; commit the JSON).

Each peer runs in its own virtualenv (created by ``side_venv``), on inputs this script
writes, and its outputs go to ``tests/unit/labeling/fixtures/``:

- ``crowdkit_ds.json``: crowd-kit 1.4.2 ``MajorityVote``, ``Wawa`` and ``DawidSkene``
  (10 and 11 iterations, with and without ``true_labels``) on a small seeded crowd;
- ``snorkel_lf_summary.json``: Snorkel 0.10 ``LFAnalysis(L).lf_summary(Y)`` on a random
  label matrix (one LF never abstains, to show Snorkel's ``confusion_matrix[1:, 1:]`` quirk);
- ``label_studio.json``: label-studio-sdk 2.1.2's ``LabelInterface`` verdict on the tasks
  ``tasks_json`` writes, and its ``Converter`` parse of a Label Studio export.

Usage: ``python benchmarks/labeling_fixtures.py``
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from _common import HERE, side_venv

from raymlops.labeling.label_studio import labeling_config, tasks_json
from raymlops.labeling.simulate import simulate_crowd

CROWDKIT_REQ = ["crowd-kit==1.4.2", "scikit-learn<1.6"]  # crowd-kit 1.4.2 predates scikit-learn 1.6 estimator tags
SNORKEL_REQ = ["torch==2.13.0", "snorkel==0.10.0"]
LABEL_STUDIO_REQ = "label-studio-sdk==2.1.2"
OUT = HERE.parent / "tests" / "unit" / "labeling" / "fixtures"


def run_in(py: Path, code: str, *args: str) -> str:
    res = subprocess.run([str(py), "-c", code, *args], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"peer failed: {res.stderr[-2000:]}")
    return res.stdout


CROWDKIT = r"""
import json, sys
import numpy as np, pandas as pd
from crowdkit.aggregation import DawidSkene, MajorityVote, Wawa
df = pd.read_csv(sys.argv[1]); gold = pd.read_csv(sys.argv[2]).set_index("task")["label"]
out = {"mv": MajorityVote().fit_predict_proba(df).sort_index().to_dict(orient="index"),
       "wawa": Wawa().fit_predict(df).sort_index().to_dict()}
for n in (10, 11):
    for name, tl in (("nogold", None), ("gold", gold)):
        ds = DawidSkene(n_iter=n, tol=-np.inf).fit(df, true_labels=tl)
        err = ds.errors_  # index (worker, observed label), columns true label
        out[f"ds_{name}_{n}"] = {
            "probas": {int(t): [float(ds.probas_.loc[t, c]) for c in sorted(ds.probas_.columns)] for t in ds.probas_.index},
            "errors": {w: [[float(err.loc[(w, o), t]) if (w, o) in err.index else 0.0 for t in sorted(err.columns)] for o in sorted(err.columns)]
                       for w in err.index.get_level_values(0).unique()},
            "priors": [float(ds.priors_[c]) for c in sorted(ds.priors_.index)],
        }
print(json.dumps(out))
"""

SNORKEL = r"""
import json, sys
import numpy as np
from snorkel.labeling import LFAnalysis
d = json.load(open(sys.argv[1]))
L, Y = np.array(d["L"]), np.array(d["Y"])
s = LFAnalysis(L).lf_summary(Y)
print(json.dumps({"polarity": [list(map(int, p)) for p in s["Polarity"]], "coverage": s["Coverage"].tolist(),
                  "overlaps": s["Overlaps"].tolist(), "conflicts": s["Conflicts"].tolist(),
                  "correct": [int(x) for x in s["Correct"]], "incorrect": [int(x) for x in s["Incorrect"]],
                  "emp_acc": s["Emp. Acc."].tolist()}))
"""

LABEL_STUDIO = r"""
import json, sys, tempfile
from label_studio_sdk.label_interface import LabelInterface
from label_studio_sdk.converter import Converter
d = json.load(open(sys.argv[1]))
li = LabelInterface(d["config"])
verdicts = [li.validate_prediction(p, return_errors=True) for t in d["tasks"] for p in t["predictions"]]
missing = [o.value_name for o in li.objects if o.value_is_variable and any(o.value_name not in t["data"] for t in d["tasks"])]
export_path = sys.argv[2]
conv = Converter(d["config"], project_dir=tempfile.mkdtemp(), download_resources=False)
parsed = [{"id": i["id"], "completed_by": i["completed_by"], "output": i["output"], "was_cancelled": i["was_cancelled"]}
          for i in conv.iter_from_json_file(export_path) if i]
print(json.dumps({"prediction_errors": verdicts, "tasks_missing_data": missing, "converter": parsed,
                  "sample_annotation": li.generate_sample_annotation(), "sample_prediction": li.generate_sample_prediction()}))
"""


def export_fixture(classes: list[str]) -> list[dict]:
    """A Label Studio JSON export as the documented format has it (3 tasks, one cancelled annotation)."""
    def ann(aid: int, user, choice: str, *, cancelled: bool = False, gt: bool = False, task: int) -> dict:
        return {
            "id": aid, "completed_by": user, "was_cancelled": cancelled, "ground_truth": gt, "lead_time": 4.2,
            "created_at": f"2026-12-01T10:0{aid % 10}:00.000000Z", "updated_at": "2026-12-01T10:10:00.000000Z", "task": task, "project": 1,
            "result": [] if cancelled else [{"id": f"r{aid}", "from_name": "label", "to_name": "table", "type": "choices", "origin": "manual", "value": {"choices": [choice]}}],
        }
    return [
        {"id": 11, "data": {"id": 101, "table": {"x": 1.0}}, "annotations": [ann(1, 3, classes[0], task=11), ann(2, {"id": 4, "email": "ann@example.com"}, classes[1], task=11)], "predictions": [], "meta": {}, "project": 1, "inner_id": 1, "total_annotations": 2, "cancelled_annotations": 0},
        {"id": 12, "data": {"id": 102, "table": {"x": 2.0}}, "annotations": [ann(3, 3, classes[1], task=12, gt=True), ann(4, 5, classes[0], cancelled=True, task=12)], "predictions": [], "meta": {}, "project": 1, "inner_id": 2, "total_annotations": 1, "cancelled_annotations": 1},
        {"id": 13, "data": {"id": 103, "table": {"x": 3.0}}, "annotations": [], "predictions": [], "meta": {}, "project": 1, "inner_id": 3, "total_annotations": 0, "cancelled_annotations": 0},
    ]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())

    crowd = simulate_crowd(n_tasks=300, n_workers=20, n_classes=3, n_sme=0, gold_share=0.05, seed=11)
    crowd.annotations.to_csv(tmp / "ann.csv", index=False)
    crowd.gold.to_csv(tmp / "gold.csv", index=False)
    py = side_venv("crowdkit", CROWDKIT_REQ)
    if py:
        out = json.loads(run_in(py, CROWDKIT, str(tmp / "ann.csv"), str(tmp / "gold.csv")))
        out["annotations"] = crowd.annotations.to_dict(orient="list")
        out["gold"] = crowd.gold.to_dict(orient="list")
        (OUT / "crowdkit_ds.json").write_text(json.dumps(out))
        print("crowd-kit fixture written")

    rng = np.random.default_rng(5)
    L = np.where(rng.random((200, 6)) < 0.5, rng.integers(0, 3, (200, 6)), -1)
    L[:, 5] = rng.integers(0, 3, 200)  # never abstains
    Y = rng.integers(0, 3, 200)
    (tmp / "L.json").write_text(json.dumps({"L": L.tolist(), "Y": Y.tolist()}))
    py = side_venv("snorkel", SNORKEL_REQ)
    if py:
        out = json.loads(run_in(py, SNORKEL, str(tmp / "L.json")))
        out.update({"L": L.tolist(), "Y": Y.tolist()})
        (OUT / "snorkel_lf_summary.json").write_text(json.dumps(out))
        print("Snorkel fixture written")

    classes = ["benign", "malignant"]
    rows = pd.DataFrame({"id": [1, 2], "mean_radius": [10.5, 20.25], "note": ["a", None]})
    tasks = tasks_json(rows, key="id", labels=["benign", "malignant"], scores=[0.61, 0.93], model_version="bc@3")
    config = labeling_config(classes)
    (tmp / "ls.json").write_text(json.dumps({"config": config, "tasks": tasks}))
    export = export_fixture(classes)
    (tmp / "export.json").write_text(json.dumps(export))
    py = side_venv("labelstudio", LABEL_STUDIO_REQ)
    if py:
        out = json.loads(run_in(py, LABEL_STUDIO, str(tmp / "ls.json"), str(tmp / "export.json")))
        out.update({"config": config, "tasks": tasks, "export": export})
        (OUT / "label_studio.json").write_text(json.dumps(out, indent=1))
        print("Label Studio fixture written")


if __name__ == "__main__":
    main()
