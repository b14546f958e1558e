"""Ray job: train on a dataset — baselines, default model, an optional Ray Tune sweep —
then register, evaluate per slice against the champion, and bless.

    ray job submit --address http://127.0.0.1:8265 -- \
        python jobs/train.py DATA --target COL --name NAME [--tune 8] [--slice COL] [--promote]

Prints the result as one JSON line (`raymlops train --json` shape). With --promote, a
BLESSED version becomes champion.
"""

from __future__ import annotations

import argparse
import json
import sys

from raymlops.core.config import Settings
from raymlops.core.errors import RaymlopsError
from raymlops.training.search_space import read_space
from raymlops.training.train import Trainer
from raymlops.training.tune import parse_space


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data")
    p.add_argument("--target", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--metric")
    p.add_argument("--tune", type=int, default=0)
    p.add_argument("--space", help="search space YAML")
    p.add_argument("--slice", action="append", default=[])
    p.add_argument("--key", action="append")
    p.add_argument("--max-drop", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--promote", action="store_true", help="make a BLESSED version champion")
    args = p.parse_args(argv)
    try:
        settings = Settings.resolve()
        settings.ensure_home()
        space = None
        if args.space:
            space = read_space(args.space)
            parse_space(space)  # Tune's own checks too, before any work
        trainer = Trainer(settings)
        result = trainer.fit(
            args.data,
            target=args.target,
            name=args.name,
            metric=args.metric,
            tune_trials=args.tune,
            space=space,
            slices=args.slice,
            key=args.key,
            seed=args.seed,
            max_drop=args.max_drop,
        )
        if args.promote and result.blessed:
            trainer.registry.set_alias(args.name, result.version, "champion", reason="jobs/train.py --promote")
    except RaymlopsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(result.to_dict(), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
