"""Ray job: `raymlops pipeline run` — run a pipeline with the driver on the cluster.

    ray job submit --address http://HEAD:8265 --working-dir . -- \
        python jobs/pipeline_run.py retrain --param data=/data/feed --param target=label --param name=churn

PIPELINE is a built-in name (retrain) or FILE.py[:ATTR]. The options are the CLI's own
(`raymlops pipeline run --help`: --param, --no-cache, --resume, --run-id); the job prints
the run as JSON (`raymlops pipeline run --json`) and exits 0 when the run is COMPLETE, 1
when a step failed, 2 on unusable input. `raymlops pipeline run --no-wait` submits the same
driver (`python -m raymlops pipeline run ...`) for you.
"""

from __future__ import annotations

import sys

from raymlops.cli import main

if __name__ == "__main__":
    main(["pipeline", "run", *sys.argv[1:], "--json"])
