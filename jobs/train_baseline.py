"""Ray job: ingest a bundled dataset, train and register a baseline, set an alias.

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

import ray

from raymlops import runtime
from raymlops.config import Settings
from raymlops.data import SKLEARN_DATASETS, ingest_sklearn
from raymlops.errors import RaymlopsError
from raymlops.metadata import connect
from raymlops.registry import ModelRegistry


def _train(dataset_id: int, target: str, name: str, seed: int) -> dict:
    from raymlops.metadata import connect as worker_connect
    from raymlops.training import train_baseline

    dataset = worker_connect().get_artifact(dataset_id)
    return train_baseline(dataset, target=target, name=name, experiment="jobs", seed=seed)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="breast_cancer", choices=SKLEARN_DATASETS)
    p.add_argument("--target", default="target")
    p.add_argument("--name", default="breast-cancer")
    p.add_argument("--alias", default="champion")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        settings = Settings.resolve()
        settings.ensure_home()
        runtime.init(settings)
        dataset = ingest_sklearn(args.dataset, settings=settings, store=connect(settings))
        task = ray.remote(num_cpus=1)(_train)
        record = ray.get(task.remote(dataset.id, args.target, args.name, args.seed))
        ModelRegistry.connect(settings).set_alias(args.name, record["version"], args.alias, reason="jobs/train_baseline.py")
    except RaymlopsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps({"name": record["name"], "version": record["version"], "metrics": record["metrics"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
