"""Parsing and validating a predict body against the model signature.

Types follow the signature, in the project's column types (:mod:`raymlops.core.coltypes`):
see :mod:`raymlops.serving.protocol` for what each type accepts.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core import coltypes
from raymlops.core.errors import InvalidInputError
from raymlops.serving.protocol._json import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_INSTANCES,
    MAX_DETAILS,
    Unnumber,
    describe,
    is_unicode,
    limit,
    load_body,
    safe,
)
from raymlops.serving.protocol.errors import (
    InvalidInstancesError,
    InvalidRequestError,
    PayloadTooLargeError,
    SignatureError,
)

__all__ = ["instances_frame", "load_instances", "parse_predict_request"]

_INT64 = (-(2**63), 2**63 - 1)


def _signature_inputs(signature: Mapping[str, Any]) -> list[tuple[str, str]]:
    inputs = signature.get("inputs") if isinstance(signature, Mapping) else None
    if not isinstance(inputs, list):
        raise SignatureError(
            "the model signature has no 'inputs' list; register the model with a signature "
            "(raymlops.registry.signature.infer_signature)"
        )
    out: list[tuple[str, str]] = []
    for spec in inputs:
        ok = isinstance(spec, Mapping) and isinstance(spec.get("name"), str)
        try:
            typ = coltypes.canonical(spec.get("type")) if ok else ""
        except InvalidInputError:
            ok = False
        if not ok:
            raise SignatureError(
                f"invalid signature input {spec!r}: each input is "
                f"{{'name': str, 'type': one of {', '.join(coltypes.COLUMN_TYPES)}}}"
            )
        out.append((spec["name"], typ))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise SignatureError(f"the model signature names an input twice: {names}")
    return out


def _convert(v: Any, typ: str) -> tuple[Any, str | None]:
    """The value converted to the signature type, or a problem text."""
    t = type(v)
    if typ == "float":
        if t is float:
            return v, None
        if t is int:
            return float(v), None
        if t is Unnumber:
            return None, f"expected a finite float, got {v.describe()}"
    elif typ == "int":
        if t is int:
            if _INT64[0] <= v <= _INT64[1]:
                return v, None
            return None, f"expected int, got {describe(v)} (out of the int64 range)"
        if t is float:
            if v.is_integer() and _INT64[0] <= v < 2.0**63:
                return int(v), None
            return None, f"expected int, got {describe(v)}" + ("" if v.is_integer() else " (has a fraction)")
    elif typ == "bool":
        if t is bool:
            return v, None
    elif typ == "string":
        if t is str:
            if is_unicode(v):
                return v, None
            return None, "expected string, got a string with a lone surrogate (not valid Unicode)"
    elif typ == "datetime":
        if t is str:
            try:
                return np.datetime64(_iso_utc(v), "us"), None
            except ValueError:
                return None, f"expected an ISO 8601 date-time, got string {v[:40]!r}"
    return None, f"expected {typ}, got {describe(v)}"


def _iso_utc(text: str) -> datetime.datetime:
    """An ISO 8601 date-time as naive UTC (an offset is converted; naive means UTC)."""
    parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return parsed


def _stored(v: Any, typ: str) -> Any:
    """A value the server itself looked up (an online feature): null stays null, µs become a datetime."""
    if v is None:
        return None
    if typ == "datetime" and type(v) is int:
        return np.datetime64(v, "us")
    return v


_NONE: frozenset[str] = frozenset()


def _validate_instances(
    instances: list[Any], inputs: list[tuple[str, str]], stored: Sequence[Collection[str]] = ()
) -> list[dict[str, Any]]:
    names = {n for n, _ in inputs}
    problems: list[dict[str, Any]] = []
    bad_rows: set[int] = set()
    rows: list[dict[str, Any]] = []
    for i, inst in enumerate(instances):
        trusted = stored[i] if stored else _NONE
        if not isinstance(inst, dict):
            problems.append({"instance": i, "problem": f"expected an object {{field: value}}, got {describe(inst)}"})
            bad_rows.add(i)
            continue
        row: dict[str, Any] = {}
        for name, typ in inputs:
            if name not in inst:
                problems.append({"instance": i, "field": safe(name), "problem": "missing required field"})
                bad_rows.add(i)
                continue
            if name in trusted:
                row[name] = _stored(inst[name], typ)
                continue
            value, problem = _convert(inst[name], typ)
            if problem is not None:
                problems.append({"instance": i, "field": safe(name), "problem": problem})
                bad_rows.add(i)
            row[name] = value
        for k in inst:
            if k not in names:
                problems.append(
                    {"instance": i, "field": safe(k), "problem": "unexpected field: not an input of the model"}
                )
                bad_rows.add(i)
        rows.append(row)
    if problems:
        first = problems[0]
        where = f"instance {first['instance']}" + (f" field {first['field']!r}" if "field" in first else "")
        expected = ", ".join(f"{n}: {t}" for n, t in inputs[:20]) + (", ..." if len(inputs) > 20 else "")
        details = problems[:MAX_DETAILS]
        if len(problems) > MAX_DETAILS:
            details.append({"problem": f"{len(problems) - MAX_DETAILS} more problems not listed"})
        raise InvalidInstancesError(
            f"{len(problems)} problem(s) in {len(bad_rows)} of {len(instances)} instance(s); first: {where}: "
            f"{first['problem']}. Each instance is an object with exactly the model's inputs {{{expected}}}",
            details=details,
        )
    return rows


_DTYPES = {t: coltypes.numpy_dtype(t) for t in coltypes.COLUMN_TYPES}


_NULLABLE = {"int": "float", "bool": "string"}  # a null in such a column: float64 (NaN) or object (None)


def _frame(rows: list[dict[str, Any]], inputs: list[tuple[str, str]], trusted: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The rows as a DataFrame: one 2-D array per dtype (a 30-column frame in ~50 us, not 30 Series)."""
    names = [n for n, _ in inputs]
    index = pd.RangeIndex(len(rows))
    groups: dict[str, list[str]] = {}
    for name, typ in inputs:
        if name in trusted and typ in _NULLABLE and any(r[name] is None for r in rows):
            typ = _NULLABLE[typ]
        groups.setdefault(typ, []).append(name)
    parts = []
    for typ, cols in groups.items():
        arr = np.array([[r[c] for c in cols] for r in rows], dtype=_DTYPES[typ]).reshape(len(rows), len(cols))
        parts.append(pd.DataFrame(arr, columns=cols, index=index, dtype=object if typ == "string" else None))
    if len(parts) == 1:
        return parts[0]
    return pd.concat(parts, axis=1)[names]


def parse_predict_request(
    body: bytes | bytearray | memoryview | str,
    signature: Mapping[str, Any],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_instances: int = DEFAULT_MAX_INSTANCES,
    as_frame: bool = True,
) -> pd.DataFrame | list[dict[str, Any]]:
    """Parse and validate a predict body ``{"instances": [{...}, ...]}`` against a signature.

    Args:
        body: the raw request body.
        signature: the served version's signature (``{"inputs": [{"name", "type"}], ...}``).
        max_bytes: the largest body accepted (413 above it).
        max_instances: the most instances per request (413 above it).
        as_frame: return a DataFrame (default) or a list of dicts in signature order.

    Returns:
        A DataFrame with the signature's columns in order and dtypes int64 (int),
        float64 (float), bool, object (string) and datetime64[us]; or the converted instances.

    Raises:
        ClientError: 400, 413 or 422 as in the module docstring, for any bad body.
        SignatureError: if the signature itself is invalid (a server-side problem).
    """
    inputs = _signature_inputs(signature)
    instances = load_instances(body, max_bytes=max_bytes, max_instances=max_instances)
    rows = _validate_instances(instances, inputs)
    return _frame(rows, inputs) if as_frame else rows


def load_instances(
    body: bytes | bytearray | memoryview | str, *, max_bytes: int = DEFAULT_MAX_BYTES, max_instances: int = DEFAULT_MAX_INSTANCES
) -> list[Any]:
    """The ``instances`` list of a predict body, checked for shape and size but not against a signature.

    Raises:
        ClientError: 400, 413 or 422 as in the module docstring.
    """
    max_bytes, max_instances = limit(max_bytes, "max_bytes"), limit(max_instances, "max_instances")
    data = load_body(body, max_bytes)
    if not isinstance(data, dict):
        raise InvalidRequestError(
            f'the body must be a JSON object {{"instances": [...]}}, got {describe(data)}',
            details=[{"field": "", "problem": f"expected an object, got {describe(data)}"}],
        )
    unknown = [k for k in data if k != "instances"]
    if unknown:
        raise InvalidRequestError(
            f"unknown key(s) {[safe(k) for k in unknown[:10]]} in the body; it has only 'instances'",
            details=[{"field": safe(k), "problem": "unknown field"} for k in unknown[:MAX_DETAILS]],
        )
    if "instances" not in data:
        raise InvalidRequestError(
            'the body has no "instances": send {"instances": [{"<input>": value, ...}, ...]}',
            details=[{"field": "instances", "problem": "missing"}],
        )
    instances = data["instances"]
    if not isinstance(instances, list):
        raise InvalidRequestError(
            f'"instances" must be a list of objects, got {describe(instances)}',
            details=[{"field": "instances", "problem": f"expected a list of objects, got {describe(instances)}"}],
        )
    if not instances:
        raise InvalidRequestError(
            '"instances" is empty: send at least one instance',
            details=[{"field": "instances", "problem": "empty list"}],
        )
    if len(instances) > max_instances:
        raise PayloadTooLargeError(
            f"{len(instances)} instances is more than the limit of {max_instances} per request; split the batch",
            details=[{"field": "instances", "instances": len(instances), "max_instances": max_instances}],
        )
    return instances


def instances_frame(
    rows: list[Any], signature: Mapping[str, Any], *, stored: Sequence[Collection[str]] = ()
) -> pd.DataFrame:
    """Validate instances (already loaded) against a signature; the DataFrame of :func:`parse_predict_request`.

    Args:
        rows: the instances, each ``{input: value}``.
        signature: the served version's signature.
        stored: per instance, the inputs the server looked up itself (online features
            joined by entity key): their values are taken as they are and may be null (NaN
            in a float column; an int column with a null becomes float64, a bool column
            object). Every other value is validated like a request's.

    Raises:
        InvalidInstancesError: an instance does not match the signature (422, every problem a detail).
        SignatureError: if the signature itself is invalid.
    """
    inputs = _signature_inputs(signature)
    trusted = frozenset().union(*stored) if stored else _NONE
    return _frame(_validate_instances(rows, inputs, stored), inputs, trusted)
