"""Registering what training produced: every trained, distilled or remediated model is
registered with five training rows as its input example (its signature) and the drift
monitor's reference profile attached (its predictions on its training inputs, see
:func:`raymlops.monitoring.live.reference_attachment`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from raymlops.monitoring.reference import reference_attachment
from raymlops.registry import ModelRegistry

__all__ = ["register_trained"]


def register_trained(
    registry: ModelRegistry,
    model: Any,
    name: str,
    *,
    X_train: pd.DataFrame,
    run: Any = None,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Register ``model`` as the next version of ``name`` with its example and reference.

    Args:
        registry: the model registry.
        model: the fitted model (it takes ``X_train``'s columns).
        name: the registered name.
        X_train: the training inputs: the first five rows are the input example, all of
            them (with the model's predictions) the reference profile.
        run: the run or execution (or its id) that produced the model.
        description: the version's description.
        metadata: the version's metadata (task, target, metrics, ...).

    Returns:
        The registry's record of the new version.
    """
    return registry.register(
        model,
        name,
        input_example=X_train.head(5),
        attachments=reference_attachment(model, X_train),
        run=run,
        description=description,
        metadata=dict(metadata) if metadata is not None else None,
    )
