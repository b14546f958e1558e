"""Ray job: a knowledge-distillation sweep on Ray Tune from a registered teacher.

    ray job submit --address http://127.0.0.1:8265 -- \
        python jobs/distill_sweep.py DATA --target COL --teacher NAME@ALIAS --name STUDENT \
        [--trials 16] [--latency-budget-ms 2]

Prints the result as one JSON line (`raymlops distill --json` shape).
"""

from __future__ import annotations

import argparse
import json
import sys

from raymlops.core.config import Settings
from raymlops.core.errors import RaymlopsError
from raymlops.training.distill_tune import distill_sweep
from raymlops.training.train import Trainer


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data")
    p.add_argument("--target", required=True)
    p.add_argument("--teacher", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--latency-budget-ms", type=float)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        settings = Settings.resolve()
        settings.ensure_home()
        trainer = Trainer(settings)
        out = distill_sweep(
            trainer,
            args.data,
            target=args.target,
            teacher=args.teacher,
            name=args.name,
            trials=args.trials,
            latency_budget_ms=args.latency_budget_ms,
            seed=args.seed,
        )
    except RaymlopsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
