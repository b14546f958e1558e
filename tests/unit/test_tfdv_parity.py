"""Parity of the ``tfdv`` preset with TensorFlow Data Validation's drift comparators, without TFDV.

``fixtures/tfdv_parity.json`` holds what TFDV itself (the version it names) measured on
every case of ``fixtures/drift_cases.py`` with a 0.1 threshold on every feature (L-infinity
for strings, Jensen-Shannon divergence for numbers); ``benchmarks/parity_tfdv.py``
regenerates it in a side virtualenv. Our preset must give TFDV's value and verdict on
every column. The one exception is a string column with more than 1,000 distinct values
a side, where TFDV counts with an approximate Misra-Gries sketch of 1,024 buckets and we
count exactly: we assert that we stay within that sketch's error of TFDV's value.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from raymlops.monitoring import judge
from tests.unit.fixtures import drift_cases as dc

GOLDEN: dict[str, Any] = json.loads((Path(__file__).resolve().parent / "fixtures" / "tfdv_parity.json").read_text())
CASES = {c.name: c for c in dc.cases()}
OURS = {"L_INFTY": "linf", "JENSEN_SHANNON_DIVERGENCE": "jensenshannon_divergence_base2"}
SKETCHED_BY_TFDV = 1000  # more distinct strings than this: TFDV's counts are approximate


def test_the_golden_file_covers_every_case_with_the_same_data():
    assert set(GOLDEN["cases"]) == set(CASES)
    for name, case in CASES.items():
        assert GOLDEN["cases"][name]["sha256"] == dc.case_sha256(case), name


@pytest.mark.parametrize("name", sorted(CASES))
def test_tfdv_preset_matches_tfdv(name):
    case = CASES[name]
    report = judge(case.reference, case.current, preset="tfdv", thresholds=GOLDEN["threshold"])
    problems = []
    for col, t in sorted(GOLDEN["cases"][name]["columns"].items()):
        ours = report[col]
        if ours.test != OURS[t["measurement"]]:
            problems.append(f"{col}: test {ours.test}, TFDV {t['measurement']}")
            continue
        approximate = max(case.reference[col].nunique(), case.current[col].nunique()) > SKETCHED_BY_TFDV
        tol = 2e-3 if approximate else 1e-9
        if not math.isclose(ours.statistic, t["value"], rel_tol=tol, abs_tol=1e-12 if not approximate else tol):
            problems.append(f"{col}: value {ours.statistic!r}, TFDV {t['value']!r}")
        if ours.drift != t["drift"]:
            problems.append(f"{col}: verdict {ours.drift}, TFDV {t['drift']}")
    assert not problems, f"{name} differs from TFDV {GOLDEN['versions']['tensorflow-data-validation']}: " + "; ".join(problems)
