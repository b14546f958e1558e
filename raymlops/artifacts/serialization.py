"""Model (de)serialisation for the artifact store: pickle, cloudpickle for ``__main__`` classes.

Loading runs only on bytes whose sha256 was checked against the registry's record
(:meth:`raymlops.artifacts.BlobStore.get` checks it), so unpickling never sees bytes
that changed since registration.

Example:
    >>> loads_model(dumps_model({"weights": [1, 2]}))
    {'weights': [1, 2]}
"""

from __future__ import annotations

import pickle
from typing import Any

import cloudpickle

__all__ = ["dumps_model", "loads_model"]


def dumps_model(model: Any) -> bytes:
    """Serialise a model (pickle; cloudpickle for classes defined in ``__main__``)."""
    try:
        data = pickle.dumps(model, protocol=5)
        if b"__main__" not in data:
            return data
    except (pickle.PicklingError, AttributeError, TypeError):
        pass
    return cloudpickle.dumps(model, protocol=5)


def loads_model(data: bytes) -> Any:
    """Deserialise bytes written by :func:`dumps_model` (only after their hash is checked)."""
    return pickle.loads(data)  # noqa: S301 - callers verify the sha256 first
