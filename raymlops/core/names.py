"""Model names and references: ``NAME@VERSION`` or ``NAME@ALIAS``.

Names match ``[A-Za-z0-9][A-Za-z0-9._-]{0,63}``; no slashes, so a name can never
become a path. A bare ``NAME`` means ``NAME@latest``.

Example:
    >>> parse_ref("iris@3"), parse_ref("iris@champion"), parse_ref("iris")
    (('iris', 3), ('iris', 'champion'), ('iris', 'latest'))
    >>> parse_ref("../etc/passwd@1")
    Traceback (most recent call last):
    ...
    raymlops.core.errors.InvalidRefError: invalid model reference '../etc/passwd@1': use NAME@VERSION (e.g. iris@3) or NAME@ALIAS (e.g. iris@champion); the name '../etc/passwd' may use only letters, digits, '.', '_' and '-', starting with a letter or digit
"""

from __future__ import annotations

import re

from raymlops.core.errors import InvalidNameError, InvalidRefError

__all__ = ["NAME_RE", "RESERVED_ALIASES", "validate_name", "validate_alias", "parse_ref"]

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
RESERVED_ALIASES = ("latest",)


def validate_name(name: str, what: str = "model") -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidNameError(what=what, name=name)
    return name


def validate_alias(alias: str) -> str:
    validate_name(alias, "alias")
    if alias.isdigit():
        raise InvalidNameError(f"invalid alias {alias!r}: an alias cannot be a number (numbers are versions)")
    if alias in RESERVED_ALIASES:
        raise InvalidNameError(f"invalid alias {alias!r}: 'latest' always means the newest version and cannot be set")
    return alias


def parse_ref(ref: str) -> tuple[str, int | str]:
    """Split a reference into ``(name, version)`` or ``(name, alias)``."""
    if not isinstance(ref, str) or not ref:
        raise InvalidRefError(ref=ref, reason="it is empty")
    name, sep, sel = ref.partition("@")
    if not NAME_RE.match(name):
        raise InvalidRefError(
            ref=ref,
            reason=f"the name {name!r} may use only letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    if not sep:
        return name, "latest"
    if sel.isdigit():
        version = int(sel)
        if version < 1:
            raise InvalidRefError(ref=ref, reason="versions start at 1")
        return name, version
    if not NAME_RE.match(sel):
        raise InvalidRefError(ref=ref, reason=f"{sel!r} is neither a version number nor a valid alias")
    return name, sel
