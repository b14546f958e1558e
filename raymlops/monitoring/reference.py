"""A model version's reference profile: what its live traffic is judged against.

The training inputs as served plus the model's predictions on them (column
:data:`PREDICTION`), stored as a registry attachment of the version when it is registered
and read back by the drift monitor and the replicas.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.errors import InvalidInputError
from raymlops.sketches import Profile

__all__ = ["PREDICTION", "REFERENCE_ATTACHMENT", "load_reference", "predictions", "reference_attachment", "reference_profile"]

PREDICTION = "prediction"
"""The column holding the model's predictions in references and windows."""

REFERENCE_ATTACHMENT = "reference_profile"
"""The name of the registry attachment that holds a version's reference profile."""


def reference_profile(model: Any, frame: Any, *, relative_accuracy: float = 0.01) -> Profile:
    """The profile a model version is judged against: its training inputs plus its predictions on them.

    Args:
        model: the fitted model (it is asked to ``predict`` ``frame``).
        frame: the training inputs as served (a pandas DataFrame of the signature's columns).
    """
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise InvalidInputError("the reference must be a non-empty pandas DataFrame of the model's input columns")
    if PREDICTION in frame.columns:
        raise InvalidInputError(f"an input column is named {PREDICTION!r}, which the monitor uses for predictions; rename it")
    prof = Profile(relative_accuracy=relative_accuracy)
    prof.update(frame.assign(**{PREDICTION: predictions(model.predict(frame))}))
    return prof


def reference_attachment(model: Any, frame: Any) -> dict[str, bytes]:
    """The registry attachment of a new version: its reference profile as JSON bytes.

    Pass it to ``ModelRegistry.register(..., attachments=...)``; the monitor reads it back
    with :func:`load_reference`.
    """
    prof = reference_profile(model, frame)
    return {REFERENCE_ATTACHMENT: json.dumps(prof.to_dict(), allow_nan=False).encode()}


def load_reference(registry: Any, ref: str) -> Profile | None:
    """The reference profile attached to ``ref`` (a :class:`~raymlops.registry.ModelRegistry`), or None.

    Raises:
        ArtifactIntegrityError: the stored profile does not match its recorded hash.
    """
    data = registry.attachment(ref, REFERENCE_ATTACHMENT)
    return None if data is None else Profile.from_dict(json.loads(data))


def predictions(values: Any) -> Any:
    """A model's predictions as the one column the monitor profiles (the first output of a multi-output model)."""
    arr = np.asarray(values)
    if arr.ndim > 1:  # multi-output: keep the first output
        arr = arr[:, 0]
    return arr
