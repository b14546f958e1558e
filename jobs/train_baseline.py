"""Ray job: ingest a bundled dataset, train baselines and the default model, register the
best, evaluate and bless it, and make it champion when blessed.

Submit it to a cluster (see cluster/local.sh):

    ray job submit --address http://127.0.0.1:8265 \
        --runtime-env-json '{"env_vars": {"RAYMLOPS_HOME": "/abs/home"}}' \
        -- python jobs/train_baseline.py --dataset breast_cancer --name breast-cancer

Prints one JSON line with the registered version.
"""

from __future__ import annotations

import argparse
import json
import sys

from raymlops.core.config import Settings
from raymlops.data import SKLEARN_DATASETS
from raymlops.core.errors import RaymlopsError
from raymlops.training.train import Trainer


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="breast_cancer", choices=SKLEARN_DATASETS)
    p.add_argument("--target", default="target")
    p.add_argument("--name", default="breast-cancer")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        settings = Settings.resolve()
        settings.ensure_home()
        trainer = Trainer(settings)
        result = trainer.fit(f"sklearn://{args.dataset}", target=args.target, name=args.name, seed=args.seed, experiment="jobs")
        if result.blessed:
            trainer.registry.set_alias(args.name, result.version, "champion", reason="jobs/train_baseline.py: blessed")
    except RaymlopsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps({"name": result.name, "version": result.version, "metrics": result.metrics, "blessed": result.blessed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
