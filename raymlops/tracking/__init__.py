"""Layer 3: experiment tracking on the metadata store. Runs, params, metric histories, tags, artifacts."""

from __future__ import annotations

from raymlops.tracking.environment import environment_info, git_info
from raymlops.tracking.metrics import MetricStore
from raymlops.tracking.runs import Run, list_runs, start_run

__all__ = ["MetricStore", "Run", "environment_info", "git_info", "list_runs", "start_run"]
