"""One error base for raymlops.

Every error knows its CLI exit code (1: a check found problems, 2: unusable input or
usage) and its HTTP status, and builds its message from keyword arguments so the
message always says what was wrong and what to do instead.

Example:
    >>> err = ModelNotFoundError(ref="iris@7")
    >>> err.exit_code, err.http_status, err.code
    (2, 404, 'model_not_found')
    >>> str(err)
    "model 'iris@7' is not in the registry; list registered models with `raymlops models list`"
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "RaymlopsError",
    "InvalidInputError",
    "InvalidRefError",
    "InvalidNameError",
    "ModelNotFoundError",
    "NotFoundError",
    "StoreUnavailableError",
    "HomeNotWritableError",
    "ArtifactIntegrityError",
    "TypeMismatchError",
    "ConflictError",
    "ChecksFailedError",
]


class RaymlopsError(Exception):
    """Base of every raymlops error.

    Subclasses set ``code``, ``exit_code`` and ``http_status`` and a ``template``
    formatted with the keyword arguments given at construction.
    """

    code = "error"
    exit_code = 2
    http_status = 400
    template = "{message}"

    def __init__(self, message: str | None = None, *, details: list[Any] | None = None, **kwargs: Any):
        self.kwargs = kwargs
        self.details = list(details or [])
        if message is None:
            message = self.template.format(**kwargs)
        self.message = message
        super().__init__(message)

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body of the HTTP contract (without the outer ``error`` key)."""
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInputError(RaymlopsError):
    """Input that cannot be used (bad file, bad argument, bad value)."""

    code = "invalid_input"


class InvalidNameError(InvalidInputError):
    code = "invalid_name"
    template = (
        "invalid {what} name {name!r}: names start with a letter or digit and use only "
        "letters, digits, '.', '_' or '-' (at most 64 characters)"
    )


class InvalidRefError(InvalidInputError):
    code = "invalid_ref"
    template = (
        "invalid model reference {ref!r}: use NAME@VERSION (e.g. iris@3) or NAME@ALIAS "
        "(e.g. iris@champion); {reason}"
    )


class NotFoundError(RaymlopsError):
    code = "not_found"
    http_status = 404
    template = "{what} {name!r} does not exist; {hint}"


class ModelNotFoundError(NotFoundError):
    code = "model_not_found"
    template = "model {ref!r} is not in the registry; list registered models with `raymlops models list`"


class StoreUnavailableError(RaymlopsError):
    """The metadata database cannot be reached or opened."""

    code = "store_unavailable"
    http_status = 503
    template = (
        "cannot open the metadata store at {uri}: {reason}; check --metadata-uri / "
        "RAYMLOPS_METADATA_URI (any SQLAlchemy URL, default sqlite under RAYMLOPS_HOME)"
    )


class HomeNotWritableError(RaymlopsError):
    code = "home_not_writable"
    http_status = 500
    template = (
        "RAYMLOPS_HOME {home} is not writable ({reason}); pass --home or set RAYMLOPS_HOME "
        "to a folder you can write"
    )


class ArtifactIntegrityError(RaymlopsError):
    """A stored artifact's bytes no longer match the sha256 recorded for it."""

    code = "artifact_integrity"
    exit_code = 1
    http_status = 500
    template = (
        "sha256 hash check failed for {what}: expected {expected}, found {actual} in {path}; "
        "the artifact was modified after registration, so it was not loaded. Re-register the "
        "model from its source"
    )


class TypeMismatchError(InvalidInputError):
    code = "type_mismatch"
    template = "property {prop!r} of {type_name!r} must be {expected}, got {actual!r}"


class ConflictError(RaymlopsError):
    code = "conflict"
    http_status = 409


class ChecksFailedError(RaymlopsError):
    """A check ran and found problems (validation anomalies, a gate, a blessing)."""

    code = "checks_failed"
    exit_code = 1
    http_status = 422
