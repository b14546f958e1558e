"""Access checks of a request: the bearer token and the model name."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from raymlops.serving.protocol._json import safe
from raymlops.serving.protocol.errors import ModelNotServedError, UnauthorizedError

__all__ = ["check_model", "check_token"]


def check_token(header_value: str | None, expected: str | None) -> None:
    """Check an ``Authorization: Bearer <token>`` header in constant time.

    Args:
        header_value: the ``Authorization`` header, or None when absent.
        expected: the configured token; None or ``""`` turns authentication off.

    Raises:
        UnauthorizedError: when the header is missing, not a bearer token, or wrong.

    Example:
        >>> check_token("Bearer s3cret", "s3cret")
        >>> check_token("Bearer nope", "s3cret")
        Traceback (most recent call last):
        ...
        raymlops.serving.protocol.errors.UnauthorizedError: the bearer token is not valid; send the token configured for this server
    """
    if not expected:
        return
    if not header_value or not isinstance(header_value, str) or not header_value.strip():
        raise UnauthorizedError("missing Authorization header; send `Authorization: Bearer <token>`")
    scheme, _, token = header_value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("the Authorization header is not a bearer token; send `Authorization: Bearer <token>`")
    given = token.strip().encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(given, expected.encode("utf-8", "surrogatepass")):
        raise UnauthorizedError("the bearer token is not valid; send the token configured for this server")


def check_model(name: str, served: Iterable[str]) -> str:
    """Return ``name`` if it is served, else raise a 404.

    Raises:
        ModelNotServedError: when ``name`` is not among ``served``.
    """
    served = sorted(served)
    if name not in served:
        shown = ", ".join(served[:20]) + (", ..." if len(served) > 20 else "") if served else "none"
        raise ModelNotServedError(name=safe(str(name)), served=shown, details=[{"model": safe(str(name))}])
    return name
