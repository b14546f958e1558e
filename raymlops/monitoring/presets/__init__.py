"""Column drift tests chosen by rules: the presets, one file each, and their registry.

A new preset is a file defining a :class:`~raymlops.monitoring.presets.base.Preset` and
one line in :data:`PRESETS`.
"""

from __future__ import annotations

from raymlops.monitoring.presets.base import Choice, Preset
from raymlops.monitoring.presets.evidently import EVIDENTLY, SMALL_REFERENCE
from raymlops.monitoring.presets.tfdv import TFDV

__all__ = ["EVIDENTLY", "PRESETS", "SMALL_REFERENCE", "TFDV", "Choice", "Preset"]

PRESETS: dict[str, Preset] = {p.name: p for p in (EVIDENTLY, TFDV)}
"""Every preset by name; ``evidently`` is the default."""
