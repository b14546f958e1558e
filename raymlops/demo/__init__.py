"""Layer 5: ``raymlops demo``, the lifecycle end to end on an embedded local Ray.

Each lifecycle part adds a chapter (one module each); every chapter records into the same
metadata store, so the final lineage shows how the champion came to be. The demo sits
above the CLI: it uses the CLI's rendering and options, and the CLI names it only in its
lazy command table.
"""

from __future__ import annotations

from raymlops.demo.command import register
from raymlops.demo.story import run_demo

__all__ = ["register", "run_demo"]
