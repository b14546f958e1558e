"""Concept drift from feedback: river detectors on the error stream, with restorable state (no Ray)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from raymlops.core.errors import InvalidInputError
from raymlops.monitoring.concept import DEFAULT_PARAMS, DETECTORS, ConceptDriftMonitor

CHANGE = 2000


def error_stream(seed: int, *, n_before: int = CHANGE, n_after: int = 1000, noise: float = 0.05) -> np.ndarray:
    """0/1 errors of a fixed model whose labelling function changes at index ``n_before``.

    Labels are ``x0 + x1 > 0`` before the change and ``x0 - x1 > 0`` after, each flipped
    with probability ``noise``; the model keeps predicting ``x0 + x1 > 0``. So the error
    rate is ``noise`` before the change and about one half after it.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_before + n_after, 2))
    before = np.arange(len(x)) < n_before
    y = np.where(before, x[:, 0] + x[:, 1] > 0, x[:, 0] - x[:, 1] > 0)
    y ^= rng.random(len(x)) < noise
    prediction = x[:, 0] + x[:, 1] > 0
    return (prediction != y).astype(np.int64)


@pytest.mark.parametrize("detector", sorted(DETECTORS))
@pytest.mark.parametrize("seed", range(5))
def test_alerts_come_after_the_labelling_function_changes_and_not_before(detector, seed):
    errors = error_stream(seed)
    assert errors[:CHANGE].mean() < 0.08 and errors[CHANGE:].mean() > 0.4
    monitor = ConceptDriftMonitor(detector)
    seen = []
    for i, e in enumerate(errors):
        monitor.update(int(e))
        if monitor.drift_detected:
            seen.append(i)
    assert seen == monitor.detections
    assert seen, f"{detector} never detected the change"
    assert min(seen) >= CHANGE, f"{detector} alerted before the change at {seen}"
    assert min(seen) < CHANGE + 300, f"{detector} took {min(seen) - CHANGE} updates to detect"
    assert monitor.n == errors.size


@pytest.mark.parametrize("detector", ["adwin", "page_hinkley"])
def test_losses_work_for_detectors_of_real_values(detector):
    rng = np.random.default_rng(1)
    losses = np.concatenate([rng.exponential(0.2, CHANGE), rng.exponential(1.0, 1000)])
    monitor = ConceptDriftMonitor(detector)
    found = monitor.update_many(losses)
    assert found and min(found) >= CHANGE


def test_ddm_warns_before_it_detects_and_takes_only_zero_one_errors():
    monitor = ConceptDriftMonitor("ddm")
    monitor.update_many(error_stream(0))
    assert monitor.warnings and monitor.detections
    assert min(monitor.warnings) <= min(monitor.detections)
    assert all(w >= CHANGE for w in monitor.warnings)
    with pytest.raises(InvalidInputError, match="0/1"):
        monitor.update(0.3)


def test_the_detector_resets_itself_after_a_detection():
    monitor = ConceptDriftMonitor("adwin")
    errors = error_stream(0)
    for e in errors:
        monitor.update(e)
        if monitor.drift_detected:
            break
    high = monitor.error_rate
    monitor.update(1)
    assert not monitor.drift_detected and monitor.error_rate == 1.0 and high < 0.5


@pytest.mark.parametrize("detector", sorted(DETECTORS))
@pytest.mark.parametrize("cut", [500, CHANGE + 20, CHANGE + 400])
def test_a_restored_monitor_continues_exactly_where_the_saved_one_stopped(detector, cut):
    errors = error_stream(3)
    whole = ConceptDriftMonitor(detector)
    whole.update_many(errors)
    first = ConceptDriftMonitor(detector)
    first.update_many(errors[:cut])
    saved = json.loads(json.dumps(first.to_dict()))  # what an actor writes and reads back
    second = ConceptDriftMonitor.from_dict(saved)
    second.update_many(errors[cut:])
    assert second.detections == whole.detections and second.warnings == whole.warnings
    assert second.n == whole.n and second.error_rate == pytest.approx(whole.error_rate)
    assert second.params == whole.params == {**DEFAULT_PARAMS[detector]}


def test_restoring_under_another_river_version_is_strict_unless_asked():
    monitor = ConceptDriftMonitor("page_hinkley", threshold=20.0)
    monitor.update_many(error_stream(0)[:100])
    saved = monitor.to_dict() | {"river_version": "0.0.1"}
    with pytest.raises(InvalidInputError, match="strict=False"):
        ConceptDriftMonitor.from_dict(saved)
    fresh = ConceptDriftMonitor.from_dict(saved, strict=False)
    assert fresh.n == 100 and fresh.params == {"threshold": 20.0} and fresh.detections == monitor.detections
    damaged = monitor.to_dict() | {"state": "bm90IGEgcGlja2xl"}
    with pytest.raises(InvalidInputError, match="cannot be read"):
        ConceptDriftMonitor.from_dict(damaged)


def test_bad_detectors_parameters_and_errors_are_refused():
    with pytest.raises(InvalidInputError, match="unknown concept-drift detector"):
        ConceptDriftMonitor("kswin")
    with pytest.raises(InvalidInputError, match="invalid parameters"):
        ConceptDriftMonitor("adwin", window=3)
    monitor = ConceptDriftMonitor("adwin")
    for bad in (float("nan"), "x", None):
        with pytest.raises(InvalidInputError):
            monitor.update(bad)
    with pytest.raises(InvalidInputError, match="format"):
        ConceptDriftMonitor.from_dict({"detector": "adwin"})
    assert monitor.n == 0 and not monitor.drift_detected and not monitor.warning_detected
