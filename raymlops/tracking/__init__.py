"""Experiment tracking on the metadata store: runs, params, metrics, tags, artifacts."""

from __future__ import annotations

from raymlops.tracking.environment import environment_info, git_info
from raymlops.tracking.runs import Run, list_runs, start_run

__all__ = ["Run", "environment_info", "git_info", "list_runs", "start_run"]
