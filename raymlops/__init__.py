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

import importlib
from typing import TYPE_CHECKING, Any

from raymlops.core.config import Settings
from raymlops.core.errors import RaymlopsError

if TYPE_CHECKING:
    from raymlops.metadata import connect
    from raymlops.tracking import start_run

__version__ = "0.1.0"

# Loaded on first use: the store and the tracker bring SQLAlchemy and Ray (about 1 s of
# imports), which `import raymlops.<package>` of a pure core (a label model, a sketch) and
# the CLI's --help do not need.
_LAZY = {"connect": "raymlops.metadata", "start_run": "raymlops.tracking"}

__all__ = [
    "RaymlopsError",
    "Settings",
    "__version__",
    "connect",
    "load_model",
    "register_model",
    "start_run",
]


def __getattr__(name: str) -> Any:
    """The heavy top-level names (``connect``, ``start_run``), imported when first used."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'raymlops' has no attribute {name!r}")


def register_model(model: Any, name: str, **kwargs: Any) -> int:
    """Register ``model`` as the next version of ``name`` and return the version.

    Keyword arguments are those of :meth:`raymlops.registry.ModelRegistry.register`
    (``signature``, ``input_example``, ``run``, ``inputs``, ``description``,
    ``metadata``, ``attachments``), plus ``settings``.
    """
    from raymlops.registry import ModelRegistry  # heavy (SQLAlchemy, Ray): loaded on first use, see _LAZY

    settings = kwargs.pop("settings", None)
    return ModelRegistry.connect(settings).register(model, name, **kwargs)["version"]


def load_model(ref: str, *, settings: Settings | None = None) -> Any:
    """Load the model ``NAME@VERSION`` or ``NAME@ALIAS`` after verifying its sha256."""
    from raymlops.registry import ModelRegistry  # heavy (SQLAlchemy, Ray): loaded on first use, see _LAZY

    return ModelRegistry.connect(settings).load(ref)
