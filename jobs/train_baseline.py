"""Ray job: train on a bundled scikit-learn dataset and make a blessed version champion —
`raymlops train sklearn://DATASET --target target --name NAME --promote`.

Submit it to a cluster (see cluster/local.sh):

    ray job submit --address http://127.0.0.1:8265 \
        --runtime-env-json '{"env_vars": {"RAYMLOPS_HOME": "/abs/home"}}' \
        -- python jobs/train_baseline.py --dataset breast_cancer --name breast-cancer

``--dataset`` (default ``breast_cancer``) names the bundled dataset; every other option is
`raymlops train`'s, with ``--target target --name breast-cancer --experiment jobs`` as
defaults. Prints the result as one JSON line.
"""

from __future__ import annotations

import sys

from raymlops.cli import main


def cli_args(argv: list[str]) -> list[str]:
    """``raymlops train`` arguments for this job's ``argv``."""
    args, dataset = list(argv), "breast_cancer"
    for i, a in enumerate(args):
        if a == "--dataset" and i + 1 < len(args):
            dataset = args[i + 1]
            del args[i : i + 2]
            break
        if a.startswith("--dataset="):
            dataset = a.split("=", 1)[1]
            del args[i]
            break
    defaults = {"--target": "target", "--name": "breast-cancer", "--experiment": "jobs"}
    given = {a.split("=", 1)[0] for a in args if a.startswith("--")}
    extra = [x for opt, value in defaults.items() if opt not in given for x in (opt, value)]
    return ["train", f"sklearn://{dataset}", *args, *extra, "--promote", "--json"]


if __name__ == "__main__":
    main(cli_args(sys.argv[1:]))
