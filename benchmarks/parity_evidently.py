"""Parity of our ``evidently`` drift preset with Evidently's DataDriftPreset, case by case.

Runs Evidently itself, not our reading of its docs: Evidently breaks on pandas 3, so it
lives in its own virtualenv ``benchmarks/.venv-evidently`` (created on first use with the
pins in ``PINS``, as ``bench_metadata.py`` does for ML Metadata). This script

1. creates (or reuses) that virtualenv;
2. runs itself there with ``--worker``: the worker builds the cases of
   ``tests/unit/fixtures/drift_cases.py`` under pandas 2 and runs
   ``Report([DataDriftPreset()], include_tests=True).run(current, reference)`` on each,
   with every default (method, threshold, drift_share);
3. checks that both interpreters built the same data (sha256 of each case), then writes
   the golden file ``tests/unit/fixtures/evidently_parity.json`` (sorted keys, floats as
   Python's shortest repr, the worker runs with ``PYTHONHASHSEED=0`` so set-ordered sums
   in Evidently add up in the same order): running again reproduces it byte for byte;
4. runs our ``raymlops.monitoring.presets.judge(ref, cur, preset="evidently")`` on the same
   cases in this (the project's) interpreter and prints Evidently vs ours per column, and
   how many columns and datasets disagree. Disagreements are reported, not fixed here.

Usage (from the repository root)::

    .venv/bin/python benchmarks/parity_evidently.py            # write golden, compare
    .venv/bin/python benchmarks/parity_evidently.py --check    # fail if golden would change
    .venv/bin/python benchmarks/parity_evidently.py --no-ours  # golden only

``make test`` checks parity without Evidently: ``tests/unit/test_evidently_parity.py``
compares ``judge`` with the golden file.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys

from _common import REPO, add_repo_to_path, pinned_venv, run_worker

GOLDEN = REPO / "tests" / "unit" / "fixtures" / "evidently_parity.json"

# The newest Evidently on PyPI whose DataDriftPreset runs (0.7.23); pandas < 3 because
# Evidently breaks on pandas 3; scipy pinned to the project's version so both sides run
# the same ks_2samp, chisquare, wasserstein_distance and jensenshannon code.
PINS = (
    "evidently==0.7.23",
    "pandas==2.3.3",
    "numpy==2.4.6",
    "scipy==1.17.1",
    "scikit-learn==1.9.1",
)

WORKER_ENV = {
    "PYTHONHASHSEED": "0",  # Evidently sums over list(set(categories)): fix the order
    "DO_NOT_TRACK": "1",  # Evidently's telemetry off
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONWARNINGS": "ignore",
}


# --------------------------------------------------------------------------- worker (side venv)


def _number(x: float) -> float | str:
    x = float(x)
    return x if math.isfinite(x) else repr(x)


def _evidently_case(case, dc) -> dict:  # runs under pandas 2 with Evidently
    import pandas as pd
    import evidently.legacy.calculations.stattests  # noqa: F401  (registers every stattest)
    from evidently import Report
    from evidently.legacy.calculations.stattests.registry import _registered_stat_tests
    from evidently.presets import DataDriftPreset

    by_display = {}
    for name, per_type in _registered_stat_tests.items():
        for st in per_type.values():
            by_display.setdefault(st.display_name, set()).add(name)

    snap = Report([DataDriftPreset()], include_tests=True).run(case.current, case.reference)
    d = snap.dict()
    definition = snap.context.data_definition
    metrics = {m["id"]: m for m in d["metrics"]}
    status = {}
    for t in d["tests"]:
        status[(t["metric_config"]["metric_id"], t["id"])] = t["status"]

    columns: dict[str, dict] = {}
    dataset: dict = {}
    for mid, m in metrics.items():
        kind = m["config"]["type"]
        if kind == "evidently:metric_v2:ValueDrift":
            col = m["config"]["column"]
            display = m["config"]["method"]
            names = by_display.get(display, set())
            if len(names) != 1:
                raise RuntimeError(f"cannot map Evidently's method {display!r} to a stattest name: {names}")
            verdict = status[(mid, "drift")]
            ref, cur = case.reference[col], case.current[col]
            ref_clean = ref.replace([-float("inf"), float("inf")], float("nan")).dropna()
            cur_clean = cur.replace([-float("inf"), float("inf")], float("nan")).dropna()
            columns[col] = {
                "column_type": definition.get_column_type(col).value,
                "dtype": {"reference": str(ref.dtype), "current": str(cur.dtype)},
                "stattest": next(iter(names)),
                "stattest_display_name": display,
                "drift_score": _number(m["value"]),
                "threshold": _number(m["config"]["threshold"]),
                "drift_detected": verdict == "FAIL",
                # what _get_default_stattest saw: non-null (and finite) values
                "reference_count": int(ref_clean.shape[0]),
                "current_count": int(cur_clean.shape[0]),
                "distinct_values": int(pd.concat([ref_clean, cur_clean]).nunique()),
            }
        elif kind == "evidently:metric_v2:DriftedColumnsCount":
            dataset = {
                "number_of_drifted_columns": int(m["value"]["count"]),
                "share_of_drifted_columns": _number(m["value"]["share"]),
                "drift_share": _number(m["config"]["drift_share"]),
                "dataset_drift": status[(mid, "lt")] == "FAIL",
            }
    legacy = {type(r).__name__: r for r, _ in snap.context._legacy_metrics.values()}
    lr, table = legacy["DatasetDriftMetricResults"], legacy["DataDriftTableResults"]
    dataset["number_of_columns"] = int(lr.number_of_columns)
    # The preset's parts must agree: DriftedColumnsCount (legacy DatasetDriftMetric, which
    # runs the legacy DataDriftTable) and the per-column ValueDrift metrics. Where a column's
    # legacy result differs from its ValueDrift result, both are kept.
    checks = {
        "dataset_drift": (bool(lr.dataset_drift), dataset["dataset_drift"]),
        "drifted columns": (dataset["number_of_drifted_columns"], sum(c["drift_detected"] for c in columns.values())),
        "columns": (dataset["number_of_columns"], len(columns)),
        "table columns": (sorted(table.drift_by_columns), sorted(columns)),
    }
    for what, (a, b) in checks.items():
        if a != b:
            raise RuntimeError(f"{case.name}: Evidently's preset disagrees with itself on {what}: {a} vs {b}")
    for col, t in table.drift_by_columns.items():
        mine = columns[col]
        seen = {
            "column_type": t.column_type,
            "stattest_display_name": t.stattest_name,
            "drift_score": _number(t.drift_score),
            "threshold": _number(t.stattest_threshold),
            "drift_detected": bool(t.drift_detected),
        }
        if any(mine[k] != v for k, v in seen.items()):
            mine["data_drift_table"] = seen
    not_judged = {
        c: definition.get_column_type(c).value for c in case.current.columns if c not in columns
    }
    return {
        "sha256": dc.case_sha256(case),
        "note": case.note,
        "regimes": list(case.regimes),
        "rows": {"reference": len(case.reference), "current": len(case.current)},
        "columns": columns,
        "not_judged": not_judged,
        "dataset": dataset,
    }


def worker() -> None:
    import warnings

    warnings.simplefilter("ignore")
    add_repo_to_path()
    import numpy
    import pandas
    import scipy
    import sklearn

    import evidently
    from tests.unit.fixtures import drift_cases as dc

    out = {
        "versions": {
            "evidently": evidently.__version__,
            "pandas": pandas.__version__,
            "numpy": numpy.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            "python": platform.python_version(),
        },
        "cases": {case.name: _evidently_case(case, dc) for case in dc.cases()},
    }
    json.dump(out, sys.stdout)


# --------------------------------------------------------------------------- main (project venv)


def golden_text(result: dict) -> str:
    doc = {
        "about": (
            "Golden values from Evidently's DataDriftPreset (all defaults) on the cases of "
            "tests/unit/fixtures/drift_cases.py. Generated by benchmarks/parity_evidently.py; "
            "do not edit by hand."
        ),
        "how": "Report([DataDriftPreset()], include_tests=True).run(current, reference)",
        "pins": list(PINS),
        "versions": result["versions"],
        "cases": result["cases"],
    }
    return json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _fmt(x: object) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return "-" if x is None else str(x)


def compare_ours(golden: dict) -> int:
    """Print Evidently vs ours for every case and column; return the mismatching columns."""
    add_repo_to_path()
    from raymlops.monitoring import judge
    from tests.unit.fixtures import drift_cases as dc
    from tests.unit.test_evidently_parity import compare

    header = (
        f"{'case':<24} {'column':<12} {'ev type':<7} {'evidently test':<15} {'ev score':>10} {'ev':>3}   "
        f"{'our test':<26} {'our score':>10} {'us':>3}  problems"
    )
    print(header)
    print("-" * len(header))
    bad_columns = total = bad_datasets = 0
    bad_cases = []
    for case in dc.cases():
        g = golden["cases"][case.name]
        try:
            report = judge(case.reference, case.current, preset="evidently")
        except Exception as exc:  # report, do not stop: this is a parity survey
            print(f"{case.name:<24} judge raised {type(exc).__name__}: {exc}")
            bad_cases.append(case.name)
            bad_columns += len(g["columns"])
            total += len(g["columns"])
            continue
        rows, dataset_problems = compare(g, report)
        for r in rows:
            total += 1
            bad_columns += bool(r["problems"])
            print(
                f"{case.name:<24} {r['column']:<12} {_fmt(r['ev_type']):<7} {_fmt(r['ev_test']):<15} "
                f"{_fmt(r['ev_score']):>10} {'D' if r['ev_drift'] else '.':>3}   {_fmt(r['our_test']):<26} "
                f"{_fmt(r['our_score']):>10} {'D' if r['our_drift'] else '.':>3}  {'; '.join(r['problems'])}"
            )
        ev_ds, our_ds = g["dataset"]["dataset_drift"], report.dataset_drift
        print(
            f"{case.name:<24} {'(dataset)':<12} share ev {g['dataset']['share_of_drifted_columns']:.3f} "
            f"{'DRIFT' if ev_ds else 'no drift'}, ours {report.share_of_drifted_columns:.3f} "
            f"{'DRIFT' if our_ds else 'no drift'}  {'; '.join(dataset_problems)}"
        )
        bad_datasets += bool(dataset_problems)
        if dataset_problems or any(r["problems"] for r in rows):
            bad_cases.append(case.name)
    print()
    print(f"columns that disagree: {bad_columns} of {total}")
    print(f"dataset verdicts that disagree: {bad_datasets} of {len(golden['cases'])}")
    print(f"cases with any disagreement: {len(bad_cases)} of {len(golden['cases'])}")
    return bad_columns


def summary(golden: dict) -> None:
    print(f"Evidently {golden['versions']['evidently']} (pandas {golden['versions']['pandas']}, "
          f"scipy {golden['versions']['scipy']}, numpy {golden['versions']['numpy']})")  # fmt: skip
    print(f"{'case':<24} {'rows ref/cur':>12}  {'columns: type test score verdict':<70} {'share':>5} dataset")
    for name, c in golden["cases"].items():
        cols = ", ".join(
            f"{k}:{v['column_type']} {v['stattest']} {_fmt(v['drift_score'])}{'*' if v['drift_detected'] else ''}"
            for k, v in c["columns"].items()
        )
        if c["not_judged"]:
            cols += ", " + ", ".join(f"{k}:{t} (not judged)" for k, t in c["not_judged"].items())
        rows = f"{c['rows']['reference']}/{c['rows']['current']}"
        ds = c["dataset"]
        print(f"{name:<24} {rows:>12}  {cols:<70} {ds['share_of_drifted_columns']:>5.2f} "
              f"{'DRIFT' if ds['dataset_drift'] else '-'}")  # fmt: skip
    print("(* = drift detected)")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the golden file would change")
    ap.add_argument("--no-ours", action="store_true", help="skip the comparison with our judge")
    args = ap.parse_args()
    if args.worker:
        worker()
        return

    add_repo_to_path()
    from tests.unit.fixtures import drift_cases as dc

    result = run_worker(pinned_venv("evidently", PINS, note=""), __file__, WORKER_ENV, "Evidently")
    ours = {c.name: dc.case_sha256(c) for c in dc.cases()}
    theirs = {name: c["sha256"] for name, c in result["cases"].items()}
    if ours != theirs:
        diff = sorted(n for n in set(ours) | set(theirs) if ours.get(n) != theirs.get(n))
        sys.exit(f"the two interpreters built different data for {diff}; fix drift_cases.py first")

    text = golden_text(result)
    old = GOLDEN.read_text() if GOLDEN.exists() else None
    if args.check:
        if old != text:
            sys.exit(f"{GOLDEN.relative_to(REPO)} would change; run without --check to rewrite it")
        print(f"{GOLDEN.relative_to(REPO)} reproduced byte for byte")
    elif old == text:
        print(f"{GOLDEN.relative_to(REPO)} unchanged (reproduced byte for byte)")
    else:
        GOLDEN.write_text(text)
        print(f"wrote {GOLDEN.relative_to(REPO)} ({len(result['cases'])} cases)")
    golden = json.loads(text)
    summary(golden)
    if not args.no_ours:
        compare_ours(golden)


if __name__ == "__main__":
    main()
