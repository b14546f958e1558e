"""Monitoring: drift statistics, test presets, concept-drift detectors and drift reports.

The logic lives in pure modules (``stats``, ``presets``, ``concept``, ``report``),
unit-tested without Ray; monitor actors only move sketches into them.
"""

from __future__ import annotations

__all__: list[str] = []
