"""Ray job: run a pipeline with the driver on the cluster.

    ray job submit --address http://HEAD:8265 --working-dir . -- \
        python jobs/pipeline_run.py retrain --param data=/data/feed --param target=label --param name=churn

PIPELINE is a built-in name (retrain) or FILE.py[:ATTR]. Prints the run as one JSON
line (the `raymlops pipeline run --json` document); exits 0 when the run is COMPLETE,
1 when a step failed, 2 on unusable input. `raymlops pipeline run --no-wait` submits the
same driver (`python -m raymlops pipeline run ...`) for you.
"""

from __future__ import annotations

import argparse
import json
import sys

from raymlops.core.config import Settings
from raymlops.core.errors import RaymlopsError
from raymlops.pipelines import parse_params, run_pipeline


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pipeline")
    p.add_argument("--param", action="append", default=[], help="KEY=VALUE (repeatable)")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--resume", help="continue this unfinished run")
    p.add_argument("--run-id")
    args = p.parse_args(argv)
    try:
        settings = Settings.resolve()
        result = run_pipeline(
            args.pipeline, parse_params(args.param), settings=settings, use_cache=not args.no_cache, resume=args.resume, run_id=args.run_id
        )
    except RaymlopsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(result.to_dict(), default=str))
    return 0 if result.state == "COMPLETE" else 1


if __name__ == "__main__":
    sys.exit(main())
