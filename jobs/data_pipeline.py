"""Ray job: the whole data pipeline (ingest, schema, validation with quarantine, profile,
split, label quality, augmentation, features) with lineage.

    ray job submit --address http://127.0.0.1:8265 -- \
        python jobs/data_pipeline.py DATA --target COL [--key COL] [--schema S] [--augment]

Prints one JSON line with the artifacts by role. Exit codes as the CLI: 0 ok, 1 the data
failed a check that stops the pipeline (a missing column), 2 unusable input.
"""

from __future__ import annotations

import argparse
import json
import sys

from raymlops.core.config import Settings
from raymlops.data.pipeline import DataPipeline
from raymlops.core.errors import RaymlopsError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", help="CSV/Parquet file, folder, glob, fsspec URI or sklearn://NAME")
    p.add_argument("--target", required=True)
    p.add_argument("--key", action="append")
    p.add_argument("--schema")
    p.add_argument("--label-issues", choices=["report", "prune", "queue", "off"], default="report")
    p.add_argument("--augment", action="store_true")
    p.add_argument("--select", choices=["mutual_info", "model"])
    p.add_argument("--k", type=int)
    p.add_argument("--out")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        settings = Settings.resolve()
        settings.ensure_home()
        res = DataPipeline(settings, out_dir=args.out).run(
            args.data,
            target=args.target,
            key=args.key,
            schema_path=args.schema,
            label_quality=args.label_issues != "off",
            label_action="report" if args.label_issues == "off" else args.label_issues,
            augment=args.augment,
            select=args.select,
            k=args.k,
            seed=args.seed,
        )
    except RaymlopsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(res.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
