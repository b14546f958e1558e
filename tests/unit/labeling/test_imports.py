"""Aggregating crowd labels imports the aggregation core alone: no Ray, no SQL store, no
semi-supervised or active-learning cores (the 1M-label benchmark times the whole process)."""

from __future__ import annotations

import json
import os
import subprocess

import raymlops.labeling
from tests.conftest import PYTHON, REPO

HEAVY = ("ray", "sqlalchemy", "sklearn.neighbors", "sklearn.ensemble", "raymlops.labeling.semi", "raymlops.labeling.active")


def _heavy(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY))


def _loaded_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True)
    return set(json.loads(out.stdout))


def test_importing_the_aggregators_loads_nothing_heavy():
    loaded = _loaded_after("from raymlops.labeling import Annotations, DawidSkene, MajorityVote")
    assert "raymlops.labeling.aggregate.dawid_skene" in loaded
    assert not _heavy(loaded), _heavy(loaded)[:10]


def test_top_level_names_still_load_when_used():
    loaded = _loaded_after("import raymlops\nraymlops.connect\nfrom raymlops.labeling import select, KNNLabelSpreading")
    assert {"sqlalchemy", "raymlops.labeling.active", "raymlops.labeling.semi"} <= loaded


def test_every_public_name_resolves():
    for name in raymlops.labeling.__all__:
        assert getattr(raymlops.labeling, name) is not None, name
    assert set(raymlops.labeling.__all__) <= set(dir(raymlops.labeling))
