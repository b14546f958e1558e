"""Ray job: `raymlops distill` — a knowledge-distillation sweep on Ray Tune from a
registered teacher.

    ray job submit --address http://127.0.0.1:8265 -- \
        python jobs/distill_sweep.py DATA --target COL --teacher NAME@ALIAS --name STUDENT \
        [--trials 16] [--latency-budget-ms 2]

The options are the CLI's own (`raymlops distill --help`); the job prints the result as one
JSON line (`raymlops distill --json`).
"""

from __future__ import annotations

import sys

from raymlops.cli import main

if __name__ == "__main__":
    main(["distill", *sys.argv[1:], "--json"])
