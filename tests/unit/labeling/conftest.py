"""Fixtures of the labeling unit tests: simulated crowds and the peers' kept outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raymlops.labeling.simulate import simulate_crowd

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope="module")
def crowd():
    """A sparse-regime crowd: 3,000 tasks, 300 workers, 4 classes, spammers, gold, SMEs."""
    return simulate_crowd(n_tasks=3000, n_workers=300, n_classes=4, seed=7)
