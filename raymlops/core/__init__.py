"""Layer 0, under everything else: errors, settings, names, column types, small helpers.

Nothing here knows about the lifecycle. :mod:`raymlops.core.runtime` (connecting to Ray,
service actors) and :mod:`raymlops.core.service` (the clock and checkpoint of a service
actor) are imported on their own, so importing the core does not import Ray.
"""

from __future__ import annotations

from raymlops.core.coltypes import COLUMN_TYPES
from raymlops.core.config import Settings
from raymlops.core.errors import (
    ArtifactIntegrityError,
    ChecksFailedError,
    ConflictError,
    HomeNotWritableError,
    InvalidInputError,
    InvalidNameError,
    InvalidRefError,
    ModelNotFoundError,
    NotFoundError,
    RaymlopsError,
    StoreUnavailableError,
    TypeMismatchError,
)
from raymlops.core.names import NAME_RE, parse_ref, validate_alias, validate_name
from raymlops.core.values import plain, py

__all__ = [
    "COLUMN_TYPES",
    "NAME_RE",
    "ArtifactIntegrityError",
    "ChecksFailedError",
    "ConflictError",
    "HomeNotWritableError",
    "InvalidInputError",
    "InvalidNameError",
    "InvalidRefError",
    "ModelNotFoundError",
    "NotFoundError",
    "RaymlopsError",
    "Settings",
    "StoreUnavailableError",
    "TypeMismatchError",
    "parse_ref",
    "plain",
    "py",
    "validate_alias",
    "validate_name",
]
