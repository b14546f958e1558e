"""Monitoring: data drift and concept drift, in batch and live, with drift reports.

The logic lives in pure modules: the column tests (:mod:`~raymlops.monitoring.drift_tests`)
and the presets that pick them (:mod:`~raymlops.monitoring.presets`), judging
(:mod:`~raymlops.monitoring.judge`), the windowed live monitor and the replica-side
sketcher (:mod:`~raymlops.monitoring.live`), river's concept-drift detectors
(:mod:`~raymlops.monitoring.concept`) and the HTML report
(:mod:`~raymlops.monitoring.report`); the statistics are :mod:`raymlops.sketches`. The
Ray shells are the monitor actor (:mod:`~raymlops.monitoring.actor`) and the batch
comparison on Ray Data (:mod:`~raymlops.monitoring.batch`).

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=500)})
    >>> judge(ref, pd.DataFrame({"x": rng.normal(1.0, 1.0, size=400)}))["x"].drift
    True
"""

from __future__ import annotations

from raymlops.monitoring.actor import DEFAULT_CONFIG, MonitorActor, get_monitor, monitor_name
from raymlops.monitoring.batch import batch_drift, read_table
from raymlops.monitoring.column_data import ColumnData
from raymlops.monitoring.concept import ConceptDriftMonitor
from raymlops.monitoring.drift_tests import TESTS, DriftTest
from raymlops.monitoring.judge import columns_of, judge, judge_column
from raymlops.monitoring.live import (
    PREDICTION,
    REFERENCE_ATTACHMENT,
    Alert,
    DriftMonitor,
    ReplicaSketcher,
    load_reference,
    reference_attachment,
    reference_profile,
)
from raymlops.monitoring.presets import PRESETS, Preset
from raymlops.monitoring.report import render_html
from raymlops.monitoring.results import ColumnDrift, DriftReport

__all__ = [
    "DEFAULT_CONFIG",
    "PREDICTION",
    "PRESETS",
    "REFERENCE_ATTACHMENT",
    "TESTS",
    "Alert",
    "ColumnData",
    "ColumnDrift",
    "ConceptDriftMonitor",
    "DriftMonitor",
    "DriftReport",
    "DriftTest",
    "MonitorActor",
    "Preset",
    "ReplicaSketcher",
    "batch_drift",
    "columns_of",
    "get_monitor",
    "judge",
    "judge_column",
    "load_reference",
    "monitor_name",
    "read_table",
    "reference_attachment",
    "reference_profile",
    "render_html",
]
