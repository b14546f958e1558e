"""Parity of the ``evidently`` preset with Evidently's DataDriftPreset, without Evidently.

``fixtures/evidently_parity.json`` holds what Evidently itself (the version it names)
decided on every case of ``fixtures/drift_cases.py``; ``benchmarks/parity_evidently.py``
regenerates it. A preset that carries Evidently's name must give Evidently's verdict:
per column the same test, the same score (p-value for p-value tests, distance for
distance tests) within 1e-6 relative or 1e-9 absolute, the same verdict, the same
columns judged; per dataset the same verdict.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from raymlops.monitoring import TESTS, DriftReport, judge
from tests.unit.fixtures import drift_cases as dc

GOLDEN_PATH = Path(__file__).resolve().parent / "fixtures" / "evidently_parity.json"
GOLDEN: dict[str, Any] = json.loads(GOLDEN_PATH.read_text())
CASES = dc.cases()
BY_NAME = {c.name: c for c in CASES}
NAMES = [c.name for c in CASES]

STATTEST_TO_OURS: dict[str, str | None] = {
    "ks": "ks",
    "wasserstein": "wasserstein_normed",
    "chisquare": "chisquare",
    "z": "z",
    "jensenshannon": "jensenshannon_distance_ln",
    "psi": "psi",
    # Evidently's tests for text columns: a domain classifier's ROC AUC
    "perc_text_content_drift": "perc_text_content_drift",
    "abs_text_content_drift": "abs_text_content_drift",
}
"""Evidently's stattest names (``StatTest.name``) to ours (keys of ``presets.TESTS``)."""

REL_TOL = 1e-6
ABS_TOL = 1e-9


def _score(col: Any) -> float | None:
    """Our number comparable to Evidently's ``drift_score``: the p-value or the distance."""
    if col.test not in TESTS:
        return None
    return col.p_value if TESTS[col.test].uses_p_value else col.statistic


def _golden_number(x: float | str) -> float:
    return float(x)  # non-finite values are stored as their repr ("inf", "nan")


def compare(golden_case: dict[str, Any], report: DriftReport) -> tuple[list[dict[str, Any]], list[str]]:
    """Evidently's golden values for one case next to our report.

    Returns:
        ``(rows, dataset_problems)``: one row per column judged by either side, with both
        sides' test, score and verdict and the list of its problems; and the problems of
        the dataset verdict. No problems means parity.
    """
    ours = {c.column: c for c in report.columns if c.test != "none"}
    theirs: dict[str, Any] = golden_case["columns"]
    rows = []
    for name in sorted(set(ours) | set(theirs)):
        g, c = theirs.get(name), ours.get(name)
        problems = []
        row = {
            "column": name,
            "ev_type": g["column_type"] if g else golden_case["not_judged"].get(name, "absent"),
            "ev_test": g["stattest"] if g else None,
            "ev_score": _golden_number(g["drift_score"]) if g else None,
            "ev_drift": bool(g["drift_detected"]) if g else False,
            "our_test": c.test if c else None,
            "our_score": _score(c) if c else None,
            "our_drift": bool(c.drift) if c else False,
            "problems": problems,
        }
        if g is None:
            problems.append(f"we judge it, Evidently leaves it out (its type: {row['ev_type']})")
        elif c is None:
            problems.append("Evidently judges it, we do not")
        else:
            expected = STATTEST_TO_OURS.get(g["stattest"], f"<unmapped {g['stattest']}>")
            if expected is None:
                problems.append(f"Evidently runs {g['stattest']} (no equivalent in TESTS), we run {c.test}")
            elif c.test != expected:
                problems.append(f"test {c.test}, Evidently {g['stattest']} (= our {expected})")
            elif not math.isclose(row["our_score"], row["ev_score"], rel_tol=REL_TOL, abs_tol=ABS_TOL):
                problems.append(f"score {row['our_score']!r}, Evidently {row['ev_score']!r}")
            if row["our_drift"] != row["ev_drift"]:
                problems.append(f"verdict {'drift' if row['our_drift'] else 'no drift'}, Evidently "
                                f"{'drift' if row['ev_drift'] else 'no drift'}")  # fmt: skip
        rows.append(row)
    dataset_problems = []
    gd = golden_case["dataset"]
    if report.dataset_drift != gd["dataset_drift"]:
        dataset_problems.append(
            f"dataset drift {report.dataset_drift} (share {report.share_of_drifted_columns:.3f}), Evidently "
            f"{gd['dataset_drift']} (share {_golden_number(gd['share_of_drifted_columns']):.3f})"
        )
    return rows, dataset_problems


# --------------------------------------------------------------------------- the golden file itself


def test_golden_names_every_case() -> None:
    assert sorted(GOLDEN["cases"]) == sorted(c.name for c in CASES), "rerun benchmarks/parity_evidently.py"
    assert len(CASES) >= 30


def test_golden_records_evidently_version() -> None:
    assert GOLDEN["versions"]["evidently"]
    assert f"evidently=={GOLDEN['versions']['evidently']}" in GOLDEN["pins"]


@pytest.mark.parametrize("name", NAMES)
def test_generated_data_matches_golden_hash(name: str) -> None:
    """A changed numpy stream (or generator) must not silently compare other data."""
    case = BY_NAME[name]
    assert dc.case_sha256(case) == GOLDEN["cases"][case.name]["sha256"], (
        f"{case.name}: generated data changed; if on purpose, rerun benchmarks/parity_evidently.py"
    )


def test_every_stattest_in_golden_is_mapped() -> None:
    used = {col["stattest"] for case in GOLDEN["cases"].values() for col in case["columns"].values()}
    assert used <= set(STATTEST_TO_OURS), sorted(used - set(STATTEST_TO_OURS))
    assert {v for v in STATTEST_TO_OURS.values() if v} <= set(TESTS)


def _columns_with(tags: tuple[str, ...]) -> list[tuple[str, str, bool]]:
    out = []
    for case in CASES:
        golden_columns = GOLDEN["cases"][case.name]["columns"]
        for col, col_tags in case.column_tags.items():
            if set(tags) <= set(col_tags) and col in golden_columns:
                out.append((case.name, col, bool(golden_columns[col]["drift_detected"])))
    return out


REGIME_IDS = ["+".join(t) for t in dc.REQUIRED_REGIMES]


@pytest.mark.parametrize("tags", list(dc.REQUIRED_REGIMES), ids=REGIME_IDS)
def test_regime_is_covered(tags: tuple[str, ...]) -> None:
    """Each regime has enough columns; the main ones show both verdicts in Evidently's values."""
    minimum = dc.REQUIRED_REGIMES[tags]
    found = _columns_with(tags)
    assert len(found) >= minimum, f"{tags}: {len(found)} columns judged by Evidently, need {minimum}"
    if minimum >= 3:
        verdicts = {drift for _, _, drift in found}
        assert verdicts == {True, False}, f"{tags}: Evidently's verdicts are all {verdicts}: {found}"


# --------------------------------------------------------------------------- parity


@pytest.mark.parametrize("name", NAMES)
def test_evidently_preset_matches_evidently(name: str) -> None:
    case = BY_NAME[name]
    golden_case = GOLDEN["cases"][case.name]
    report = judge(case.reference, case.current, preset="evidently")
    rows, dataset_problems = compare(golden_case, report)
    lines = [f"{r['column']}: {'; '.join(r['problems'])}" for r in rows if r["problems"]]
    lines += [f"(dataset): {p}" for p in dataset_problems]
    version = GOLDEN["versions"]["evidently"]
    assert not lines, f"{case.name} ({case.note}) differs from Evidently {version}:\n" + "\n".join(lines)
