"""Strict JSON for request bodies: size limit, UTF-8, no duplicate keys, no NaN or overflow.

Number literals JSON cannot carry faithfully (``NaN``, ``Infinity``, ``1e999``, integers
of hundreds of digits) parse as :class:`Unnumber`, so the instance checks can report
them per field instead of failing the whole body.
"""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple

from raymlops.serving.protocol.errors import MalformedRequestError, PayloadTooLargeError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_INSTANCES",
    "MAX_DETAILS",
    "Unnumber",
    "describe",
    "is_unicode",
    "limit",
    "load_body",
    "safe",
]

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_INSTANCES = 1000
MAX_DETAILS = 100  # problems listed in an error's details; the message gives the total
_MAX_DIGITS = 300  # longer integer literals are out of range for every type (1e300 < max double)


class Unnumber(NamedTuple):
    """A number literal JSON cannot carry faithfully: NaN, +-Infinity, overflow, huge integers."""

    text: str

    def describe(self) -> str:
        if self.text in ("NaN", "Infinity", "-Infinity"):
            return f"{self.text} (not a JSON number; send finite numbers)"
        if self.text.lstrip("-").isdigit():
            return f"an integer with {len(self.text.lstrip('-'))} digits (out of range)"
        t = self.text if len(self.text) <= 24 else self.text[:21] + "..."
        return f"{t} (overflows a double; send finite numbers)"


class _DuplicateKey(Exception):
    """A key seen twice in one JSON object."""


def _parse_float(s: str) -> float | Unnumber:
    x = float(s)
    return x if math.isfinite(x) else Unnumber(s)


def _parse_int(s: str) -> int | Unnumber:
    return Unnumber(s) if len(s) > _MAX_DIGITS else int(s)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return out


_DECODER = json.JSONDecoder(
    parse_float=_parse_float, parse_int=_parse_int, parse_constant=Unnumber, object_pairs_hook=_pairs
)


def safe(s: str, length: int = 100) -> str:
    """A string that encodes as UTF-8 (lone surrogates escaped), at most ``length`` characters."""
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return s if len(s) <= length else s[: length - 3] + "..."


def is_unicode(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a "\\ud800" escape
        return False
    return True


def load_body(body: bytes | bytearray | memoryview | str, max_bytes: int) -> Any:
    """The parsed JSON of a request body, or a 400 (malformed) or 413 (over ``max_bytes``)."""
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    body = bytes(body)
    if len(body) > max_bytes:
        raise PayloadTooLargeError(
            f"the request body is {len(body)} bytes, more than the limit of {max_bytes}; "
            "send fewer instances per request",
            details=[{"bytes": len(body), "max_bytes": max_bytes}],
        )
    if not body.strip():
        raise MalformedRequestError("the request body is empty; send a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MalformedRequestError(
            f"the request body is not valid UTF-8 (byte {e.start}); send JSON encoded as UTF-8",
            details=[{"position": e.start}],
        ) from None
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as e:
        raise MalformedRequestError(
            f"the request body is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}",
            details=[{"line": e.lineno, "column": e.colno, "problem": e.msg}],
        ) from None
    except _DuplicateKey as e:
        key = safe(str(e.args[0]))
        raise MalformedRequestError(
            f"the key {key!r} appears twice in one JSON object; send each key once", details=[{"field": key}]
        ) from None
    except RecursionError:
        raise MalformedRequestError("the request body nests arrays or objects too deeply") from None
    except ValueError as e:  # e.g. a number literal the float parser refuses
        raise MalformedRequestError(f"the request body is not valid JSON: {safe(str(e), 200)}") from None


def describe(v: Any) -> str:
    """A JSON-flavoured description of a parsed value, for problem messages."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"boolean {'true' if v else 'false'}"
    if isinstance(v, Unnumber):
        return v.describe()
    if isinstance(v, int):
        return f"integer {v}" if len(str(v)) <= 24 else "a large integer"
    if isinstance(v, float):
        return f"number {v!r}"
    if isinstance(v, str):
        short = v if len(v) <= 40 else v[:37] + "..."
        return f"string {short!r}"
    if isinstance(v, list):
        return "array"
    return "object"


def limit(v: Any, what: str) -> int:
    """A server limit given by the caller: a positive integer (a server-side mistake otherwise)."""
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{what} must be a positive integer, got {v!r}")
    return v
