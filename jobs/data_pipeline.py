"""Ray job: `raymlops data pipeline` — ingest, schema, validation with quarantine, profile,
split, label quality, augmentation and features, with lineage.

    ray job submit --address http://127.0.0.1:8265 -- \
        python jobs/data_pipeline.py DATA --target COL [--key COL] [--schema S] [--augment]

The options are the CLI's own (`raymlops data pipeline --help`); the job prints the artifacts
by role as one JSON line. Exit codes as the CLI: 0 ok, 1 the data failed a check that stops
the pipeline, 2 unusable input.
"""

from __future__ import annotations

import sys

from raymlops.cli import main

if __name__ == "__main__":
    main(["data", "pipeline", *sys.argv[1:], "--json"])
