"""raymlops: an MLOps platform on Ray, from raw data to a model kept healthy in production.

The top level holds the calls most code needs; each lifecycle part has its own
package (``raymlops.metadata``, ``raymlops.registry``, ``raymlops.tracking``, ...).

Example:
    >>> import tempfile, raymlops
    >>> s = raymlops.Settings.resolve(home=tempfile.mkdtemp(), env={})
    >>> raymlops.register_model({"weights": [0.5]}, "toy", settings=s)
    1
    >>> raymlops.load_model("toy@1", settings=s)
    {'weights': [0.5]}
"""

from __future__ import annotations

from typing import Any

from raymlops.core.config import Settings
from raymlops.core.errors import RaymlopsError
from raymlops.metadata import connect
from raymlops.registry import ModelRegistry
from raymlops.tracking import start_run

__version__ = "0.1.0"

__all__ = [
    "RaymlopsError",
    "Settings",
    "__version__",
    "connect",
    "load_model",
    "register_model",
    "start_run",
]


def register_model(model: Any, name: str, **kwargs: Any) -> int:
    """Register ``model`` as the next version of ``name`` and return the version.

    Keyword arguments are those of :meth:`raymlops.registry.ModelRegistry.register`
    (``signature``, ``input_example``, ``run``, ``inputs``, ``description``,
    ``metadata``, ``attachments``), plus ``settings``.
    """
    settings = kwargs.pop("settings", None)
    return ModelRegistry.connect(settings).register(model, name, **kwargs)["version"]


def load_model(ref: str, *, settings: Settings | None = None) -> Any:
    """Load the model ``NAME@VERSION`` or ``NAME@ALIAS`` after verifying its sha256."""
    return ModelRegistry.connect(settings).load(ref)
