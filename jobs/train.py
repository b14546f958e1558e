"""Ray job: `raymlops train` — baselines, default model, an optional Ray Tune sweep, then
register, evaluate per slice against the champion, and bless.

    ray job submit --address http://127.0.0.1:8265 -- \
        python jobs/train.py DATA --target COL --name NAME [--tune 8] [--slice COL] [--promote]

The options are the CLI's own (`raymlops train --help`); the job prints the result as one
JSON line (`raymlops train --json`). Exit codes as the CLI's.
"""

from __future__ import annotations

import sys

from raymlops.cli import main

if __name__ == "__main__":
    main(["train", *sys.argv[1:], "--json"])
