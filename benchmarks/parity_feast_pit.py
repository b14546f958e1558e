"""Parity of our point-in-time join with Feast's DuckDB offline store, case by case.

Runs Feast itself, not our reading of its docs. Feast lives in its own virtualenv
(``FEAST_PYTHON``, default ``/work/wt/features/benchmarks/.venv-feast/bin/python``; Feast
0.67 there); this script, run with the project's interpreter,

1. builds the cases of ``tests/unit/features/feast_cases.py`` (the adversarial
   ``make_case`` seeds, adapted to what Feast can express: one timestamp type per source,
   full ties on key + event + created time removed because Feast's order among them is
   undefined) and writes each as Parquet;
2. runs ``benchmarks/_feast_pit_cases.py`` with Feast's interpreter: one feature view per
   case, ``get_historical_features(..., full_feature_names=True)`` on the DuckDB offline
   store;
3. writes the golden file ``tests/unit/features/fixtures/feast_pit.json``: per case the
   seed, the sha256 of the generated inputs (the test regenerates them from the seed and
   checks the hash), the TTL, Feast's output per entity row in entity order (``f_id``,
   ``f_tag``, null as null) and whether Feast kept every entity row in order;
4. runs our in-process join (``local_join``, no Ray) on the same files and prints, per
   case, whether Feast and ours agree. Disagreements are reported, not fixed here: a case
   where they differ is marked in the golden file under ``difference`` only when a reason
   is given in ``KNOWN_DIFFERENCES`` below.

Usage (from the repository root)::

    .venv/bin/python benchmarks/parity_feast_pit.py           # write golden, compare
    .venv/bin/python benchmarks/parity_feast_pit.py --check   # fail if golden would change

``tests/unit/features/test_feast_parity.py`` checks parity without Feast installed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from tests.unit.features.feast_cases import SEEDS, feast_case, input_hash, our_join, write_case  # noqa: E402

GOLDEN = REPO / "tests" / "unit" / "features" / "fixtures" / "feast_pit.json"
FEAST_PYTHON = os.environ.get("FEAST_PYTHON", "/work/wt/features/benchmarks/.venv-feast/bin/python")

# case id -> why Feast and ours differ there (asserted by the test instead of equality)
KNOWN_DIFFERENCES: dict[str, str] = {}


def _same(a, b) -> bool:
    return a == b


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="fail if the golden file would change")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="feast_pit_")
    cases, meta = [], {}
    for seed in SEEDS:
        case, info = feast_case(seed)
        cid = f"seed{seed}"
        paths = write_case(case, os.path.join(work, cid))
        cases.append({"id": cid, "entity": paths["entity"], "features": paths["features"], "ttl_s": case.ttl_s})
        meta[cid] = (case, info, paths)
    spec = os.path.join(work, "spec.json")
    with open(spec, "w") as f:
        json.dump({"cases": cases}, f)
    proc = subprocess.run([FEAST_PYTHON, str(HERE / "_feast_pit_cases.py"), spec], capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": "0", "FEAST_USAGE": "False"})
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        return 1
    feast_out = json.loads(proc.stdout.strip().splitlines()[-1])
    golden = {"peer": f"feast {feast_out['feast']} (pandas {feast_out['pandas']}), DuckDB offline store, full_feature_names=True",
              "cases": []}
    agree = 0
    for c in cases:
        cid = c["id"]
        case, info, paths = meta[cid]
        res = feast_out["results"][cid]
        entry = {"id": cid, **info, "ttl_s": case.ttl_s, "input_sha256": input_hash(case),
                 "entity_rows": len(case.entity), "feature_rows": sum(len(df) for df in case.files)}
        if "error" in res:
            entry["feast_error"] = res["error"]
            print(f"{cid}: Feast failed: {res['error']}")
            golden["cases"].append(entry)
            continue
        n = len(case.entity)
        entry["feast_kept_every_row"] = sorted(res["row_labels"]) == list(range(n))
        entry["feast_output_in_entity_order"] = res["row_labels"] == list(range(n))
        entry["expected"] = {"f_id": res["f_id"], "f_tag": res["f_tag"]}
        ours = {src: our_join(paths[src], paths["entity"], case.ttl_s) for src in ("features", "split")}
        diffs = []
        for src, o in ours.items():
            if o["row_labels"] != list(range(n)):
                diffs.append(f"{src}: our rows not in entity order")
            for col in ("f_id", "f_tag"):
                if sorted(res["row_labels"]) == list(range(n)):
                    bad = [i for i, (a, b) in enumerate(zip(o[col], res[col])) if not _same(a, b)]
                    if bad:
                        diffs.append(f"{src}: {col} differs at rows {bad[:10]}{'...' if len(bad) > 10 else ''}")
        if cid in KNOWN_DIFFERENCES:
            entry["difference"] = KNOWN_DIFFERENCES[cid]
        matched = sum(v is not None for v in res["f_id"])
        print(f"{cid}: rows={n} matched={matched} ttl={case.ttl_s} tz={info['tz']} ties_dropped={info['full_ties_dropped']} "
              f"feast_order={entry['feast_output_in_entity_order']} -> {'AGREE' if not diffs else 'DIFFER: ' + '; '.join(diffs)}")
        agree += not diffs
        golden["cases"].append(entry)
    print(f"{agree}/{len(cases)} cases agree")
    text = json.dumps(golden, indent=1, sort_keys=True) + "\n"
    if args.check:
        same = GOLDEN.exists() and GOLDEN.read_text() == text
        print("golden file up to date" if same else "golden file would change")
        return 0 if same else 1
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(text)
    print(f"wrote {GOLDEN.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
