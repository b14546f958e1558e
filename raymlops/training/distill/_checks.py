"""The number check the distillation modules share."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["is_real"]


def is_real(x: Any) -> bool:
    """Whether ``x`` is a real number (Python or numpy), booleans excluded."""
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))
