"""Parity of our ``tfdv`` drift preset with TensorFlow Data Validation's drift comparators.

TFDV needs TensorFlow, pandas < 2 and numpy < 2, so it lives in its own virtualenv
``benchmarks/.venv-tfdv`` (about 2.8 GB; created on first use with ``PINS``). This script

1. creates (or reuses) that virtualenv;
2. runs itself there with ``--worker``: for every case of
   ``tests/unit/fixtures/drift_cases.py`` it computes
   ``tfdv.generate_statistics_from_dataframe`` of both sides (default ``StatsOptions``),
   infers the schema from the reference statistics, sets on every feature the comparator
   TFDV offers for its type with threshold 0.1 (``infinity_norm`` for BYTES features,
   ``jensen_shannon_divergence`` for INT and FLOAT features; TFDV has no default
   thresholds) and reads ``validate_statistics(current, schema,
   previous_statistics=reference)``: the ``drift_skew_info`` measurement per feature and
   whether a ``COMPARATOR_*_HIGH`` anomaly was raised;
3. checks that both interpreters built the same data (sha256 of each case) and writes
   ``tests/unit/fixtures/tfdv_parity.json`` (sorted keys, shortest float repr; running
   again reproduces it byte for byte);
4. recomputes every value in this interpreter from the rules written down in
   ``benchmarks/parity/TFDV_RULES.md`` (:func:`rules_linf`, :func:`rules_js`: pure numpy)
   to show the rules are complete, and compares our
   ``judge(ref, cur, preset="tfdv", thresholds=0.1)`` with TFDV, printing the mismatches.

Usage (from the repository root)::

    .venv/bin/python benchmarks/parity_tfdv.py [--check] [--no-ours]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys

import numpy as np

from _common import REPO, add_repo_to_path, pinned_venv, run_worker

GOLDEN = REPO / "tests" / "unit" / "fixtures" / "tfdv_parity.json"
THRESHOLD = 0.1

# TFDV 1.16.1 is the newest release with Python 3.11 wheels here; the other pins stop pip
# from backtracking through apache-beam and tf-keras-nightly for many minutes.
PINS = (
    "tensorflow-data-validation==1.16.1",
    "tfx-bsl==1.16.1",
    "tensorflow-metadata==1.16.1",
    "tensorflow==2.16.2",
    "tensorboard==2.16.2",
    "apache-beam[gcp]==2.61.0",
    "pyarrow==10.0.1",
    "pandas==1.5.3",
    "numpy==1.26.4",
    "protobuf==4.25.5",
)

WORKER_ENV = {
    "PYTHONHASHSEED": "0",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONWARNINGS": "ignore",
}


# --------------------------------------------------------------------------- worker (side venv)


def _tfdv_case(case, dc) -> dict:
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

    ref_stats = tfdv.generate_statistics_from_dataframe(case.reference)
    cur_stats = tfdv.generate_statistics_from_dataframe(case.current)
    schema = tfdv.infer_schema(ref_stats)
    types = {}
    for f in schema.feature:
        types[f.name] = schema_pb2.FeatureType.Name(f.type)
        if f.type == schema_pb2.BYTES:
            f.drift_comparator.infinity_norm.threshold = THRESHOLD
        else:
            f.drift_comparator.jensen_shannon_divergence.threshold = THRESHOLD
    anomalies = tfdv.validate_statistics(cur_stats, schema, previous_statistics=ref_stats)
    high = {
        anomalies_pb2.AnomalyInfo.COMPARATOR_L_INFTY_HIGH,
        anomalies_pb2.AnomalyInfo.COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH,
    }
    flagged = {
        name for name, info in anomalies.anomaly_info.items() if any(r.type in high for r in info.reason)
    }
    other = {
        name: sorted(anomalies_pb2.AnomalyInfo.Type.Name(r.type) for r in info.reason if r.type not in high)
        for name, info in anomalies.anomaly_info.items()
    }
    columns = {}
    for d in anomalies.drift_skew_info:
        name = d.path.step[0]
        (m,) = d.drift_measurements
        kind = anomalies_pb2.DriftSkewInfo.Measurement.Type.Name(m.type)
        value = float(m.value)
        drift = value > m.threshold  # feature_util.cc: "<= threshold" is no anomaly
        if drift != (name in flagged):
            raise RuntimeError(f"{case.name}.{name}: {value} vs threshold {m.threshold} but anomaly={name in flagged}")
        columns[name] = {
            "feature_type": types[name],
            "measurement": kind,
            "value": value,
            "threshold": float(m.threshold),
            "drift": drift,
            "other_anomalies": other.get(name, []),
        }
    missing = sorted(set(types) - set(columns))
    return {
        "sha256": dc.case_sha256(case),
        "rows": {"reference": len(case.reference), "current": len(case.current)},
        "columns": columns,
        "no_measurement": missing,
    }


def worker() -> None:
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    add_repo_to_path()
    import pandas
    import tensorflow_data_validation as tfdv
    import tfx_bsl

    from tests.unit.fixtures import drift_cases as dc

    out = {
        "versions": {
            "tensorflow-data-validation": tfdv.__version__,
            "tfx-bsl": tfx_bsl.__version__,
            "pandas": pandas.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "cases": {case.name: _tfdv_case(case, dc) for case in dc.cases()},
    }
    print(json.dumps(out))


# --------------------------------------------------------------------------- TFDV's rules in numpy


def _finite_sorted(s) -> np.ndarray:
    x = s.dropna().to_numpy(dtype=np.float64)
    return np.sort(x[np.isfinite(x)])


def _bin_weights(q: np.ndarray, cum: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """tensorflow_data_validation/utils/quantiles_util.py: _get_bin_weights."""
    cum = cum.astype(np.float64)
    low, high, counts = q[:-1], q[1:], np.diff(cum)
    i = 0
    while i < low.size:  # spread the weight of runs of equal upper bounds evenly
        j = i + 1
        while j < low.size and high[i] == high[j]:
            j += 1
        if j > i + 1:
            counts[i:j] = counts[i:j].sum() / (j - i)
        i = j
    i = 0
    while i < low.size and low[0] == low[i] and high[0] == high[i]:
        i += 1
    if i > 0:  # the minimum's own count goes to the leading identical bins
        counts[0:i] += cum[0] / i
    return low, high, counts


def _overlap(lo: float, hi: float, low_bound: float, high_bound: float, first: bool) -> float:
    """quantiles_util.py: _overlap (fraction of a bucket inside [low_bound, high_bound])."""
    if hi == lo == low_bound:
        return 1.0 if first else 0.0
    if hi < low_bound or lo > high_bound:
        return 0.0
    if low_bound <= lo and high_bound >= hi:
        return 1.0
    if low_bound <= lo:
        return (high_bound - lo) / (hi - lo)
    if high_bound >= hi:
        return (hi - low_bound) / (hi - lo)
    return (high_bound - low_bound) / (hi - lo)


def standard_histogram(x: np.ndarray, buckets: int = 10, quantiles: int = 1000) -> list[tuple[float, float, float]]:
    """TFDV's STANDARD histogram of sorted finite values (exact quantile sketch assumed).

    basic_stats_generator.py asks the tfx_bsl QuantilesSketch (eps 0.01) for
    ``100 * num_quantiles_histogram_buckets = 1000`` quantiles; for our sizes the sketch is
    exact: boundary ``i`` is ``x[min(floor(i * n / 1000), n - 1)]`` with the cumulative
    count of values ``<=`` it. quantiles_util.generate_equi_width_histogram then spreads
    those 1000 buckets (uniform within each) over ``buckets`` equal-width buckets from the
    minimum to the maximum (a single point bucket when they are equal).
    """
    n = x.size
    idx = np.minimum((np.arange(quantiles + 1) * n) // quantiles, n - 1)
    q = x[idx]
    cum = np.searchsorted(x, q, side="right").astype(np.float64)
    low, high, w = _bin_weights(q, cum)
    lo, hi = float(x[0]), float(x[-1])
    edges = np.array([lo, hi]) if lo == hi else np.linspace(lo, hi, buckets + 1)
    out = []
    for i in range(edges.size - 1):
        total = 0.0
        for b in range(low.size):
            total += _overlap(low[b], high[b], edges[i], edges[i + 1], i == 0) * w[b]
        out.append((float(edges[i]), float(edges[i + 1]), total))
    return out


def _rebucket(boundaries: list[float], hist: list[tuple[float, float, float]]) -> list[float]:
    """metrics.cc: RebucketHistogram (uniform within a bucket), counts only."""
    out: list[float] = []
    idx = 0
    top = len(boundaries) - 1
    for lo, hi, c in hist:
        while lo > boundaries[idx]:
            out.append(0.0)
            idx += 1
        covered = []
        while hi > boundaries[idx]:
            covered.append(boundaries[idx])
            idx += 1
        covered.append(boundaries[idx])
        for k in range(len(covered) - 1):
            out.append((covered[k + 1] - covered[k]) / (hi - lo) * c)
    out.extend([0.0] * (top - idx))
    return out


def rules_js(reference, current) -> float:
    """metrics.cc JensenShannonDivergence on two STANDARD histograms (log base 2)."""
    h1, h2 = standard_histogram(_finite_sorted(reference)), standard_histogram(_finite_sorted(current))
    points1 = {lo: c for lo, hi, c in h1 if lo == hi}
    points2 = {lo: c for lo, hi, c in h2 if lo == hi}
    h1 = [b for b in h1 if b[0] != b[1]]
    h2 = [b for b in h2 if b[0] != b[1]]
    b1 = {v for lo, hi, _ in h1 for v in (lo, hi)}
    b2 = {v for lo, hi, _ in h2 for v in (lo, hi)}
    if b1 != b2:
        bounds = sorted(b1 | b2)
        p, q = _rebucket(bounds, h1), _rebucket(bounds, h2)
    else:
        p, q = [c for *_, c in h1], [c for *_, c in h2]
    for v in sorted(set(points1) | set(points2)):
        p.append(points1.get(v, 0.0))
        q.append(points2.get(v, 0.0))
    p_arr, q_arr = np.array(p), np.array(q)
    p_arr, q_arr = p_arr / p_arr.sum(), q_arr / q_arr.sum()
    m = (p_arr + q_arr) / 2

    def kl(a: np.ndarray) -> float:
        return sum(a[i] * math.log2(a[i] / m[i]) for i in range(a.size) if a[i] > 0 and m[i] > 0)

    return (kl(p_arr) + kl(q_arr)) / 2


def rules_linf(reference, current) -> float:
    """metrics.cc LInftyDistance: max |p_i - q_i| over the two rank histograms' values.

    Exact while each side has at most 1000 distinct values. Beyond that TFDV's in-memory
    statistics count values with a Misra-Gries sketch of 1024 buckets and keep a rank
    histogram of the top 1000 (proportions are then of the kept counts): not reproduced.
    """
    a = reference.dropna().astype(str).value_counts()
    b = current.dropna().astype(str).value_counts()
    keys = set(a.index) | set(b.index)
    pa, pb = a / a.sum(), b / b.sum()
    return max(abs(float(pa.get(k, 0.0)) - float(pb.get(k, 0.0))) for k in keys)


# --------------------------------------------------------------------------- main (project venv)


def golden_text(result: dict) -> str:
    doc = {
        "about": (
            "Golden values from TFDV's drift comparators on the cases of tests/unit/fixtures/drift_cases.py "
            "(infinity_norm for BYTES, jensen_shannon_divergence for INT/FLOAT, threshold 0.1, drift when "
            "value > threshold). Generated by benchmarks/parity_tfdv.py; do not edit by hand."
        ),
        "pins": list(PINS),
        "threshold": THRESHOLD,
        "versions": result["versions"],
        "cases": result["cases"],
    }
    return json.dumps(doc, sort_keys=True, indent=1) + "\n"


OURS = {"L_INFTY": "linf", "JENSEN_SHANNON_DIVERGENCE": "jensenshannon_divergence_base2"}


def compare(golden: dict) -> None:
    add_repo_to_path()
    from raymlops.monitoring import judge
    from tests.unit.fixtures import drift_cases as dc

    rules_bad = ours_bad = total = sketched_total = 0
    print(
        f"{'case':<24} {'column':<12} {'tfdv':<6} {'tfdv value':>11} {'rules':>11} {'ours':<31} "
        f"{'our value':>11}  problems"
    )
    for case in dc.cases():
        g = golden["cases"][case.name]["columns"]
        report = judge(case.reference, case.current, preset="tfdv", thresholds=THRESHOLD)
        for col, t in sorted(g.items()):
            total += 1
            ref, cur = case.reference[col], case.current[col]
            rules = rules_linf(ref, cur) if t["measurement"] == "L_INFTY" else rules_js(ref, cur)
            ok_rules = math.isclose(rules, t["value"], rel_tol=1e-9, abs_tol=1e-12)
            sketched = t["measurement"] == "L_INFTY" and max(ref.nunique(), cur.nunique()) > 1000
            rules_bad += not ok_rules and not sketched
            sketched_total += sketched
            c = report[col]
            problems = []
            if not ok_rules:
                why = " (> 1000 distinct values: TFDV's Misra-Gries sketch)" if sketched else ""
                problems.append("rules differ from TFDV" + why)
            if c.test != OURS[t["measurement"]]:
                problems.append(f"test {c.test}")
            elif not math.isclose(c.statistic, t["value"], rel_tol=1e-6, abs_tol=1e-9):
                problems.append("value")
            if c.drift != t["drift"]:
                problems.append(f"verdict {'drift' if c.drift else 'none'} vs {'drift' if t['drift'] else 'none'}")
            ours_bad += any(not p.startswith("rules differ") for p in problems)
            print(
                f"{case.name:<24} {col:<12} {t['measurement'][:6]:<6} {t['value']:>11.5g} {rules:>11.5g} "
                f"{c.test:<31} {c.statistic:>11.5g}  {'; '.join(problems)}"
            )
    print()
    reproducible = total - sketched_total
    print(f"TFDV values reproduced from the written rules (1e-9 relative): {reproducible - rules_bad} of "
          f"{reproducible}; not reproducible (more than 1000 distinct values): {sketched_total}")  # fmt: skip
    print(f"our tfdv preset disagrees with TFDV on {ours_bad} of {total} columns")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the golden file would change")
    ap.add_argument("--no-ours", action="store_true", help="skip the comparisons in this interpreter")
    args = ap.parse_args()
    if args.worker:
        worker()
        return
    add_repo_to_path()
    from tests.unit.fixtures import drift_cases as dc

    result = run_worker(pinned_venv("tfdv", PINS, note=" (about 2.8 GB)"), __file__, WORKER_ENV, "TFDV")
    ours = {c.name: dc.case_sha256(c) for c in dc.cases()}
    theirs = {n: c["sha256"] for n, c in result["cases"].items()}
    if ours != theirs:
        sys.exit(f"the interpreters built different data for {sorted(n for n in ours if ours[n] != theirs.get(n))}")
    text = golden_text(result)
    old = GOLDEN.read_text() if GOLDEN.exists() else None
    if args.check:
        if old != text:
            sys.exit(f"{GOLDEN.relative_to(REPO)} would change")
        print(f"{GOLDEN.relative_to(REPO)} reproduced byte for byte")
    elif old == text:
        print(f"{GOLDEN.relative_to(REPO)} unchanged (reproduced byte for byte)")
    else:
        GOLDEN.write_text(text)
        print(f"wrote {GOLDEN.relative_to(REPO)} ({len(result['cases'])} cases)")
    print(f"TFDV {result['versions']['tensorflow-data-validation']}, tfx-bsl {result['versions']['tfx-bsl']}")
    if not args.no_ours:
        compare(json.loads(text))


if __name__ == "__main__":
    main()
