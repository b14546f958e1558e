"""The HTTP contract of the serving ingress, without a web framework.

The ingress hands the raw body bytes here and gets back validated data or a
:class:`ClientError` that carries its HTTP status, its headers and the JSON body
``{"error": {"code", "message", "details": [...]}}``. For any client input these
functions either succeed or raise a :class:`ClientError` (a 4xx), never anything else
(DESIGN.md principle 6: no 5xx for a client's bad input); a fuzz test holds them to it.

Status codes of ``POST /v1/models/{name}:predict``:

=====  ==================  =============================================================
400    malformed_request   empty body, not UTF-8, not JSON, a duplicate key in an
                           object, or nested too deeply
401    unauthorized        :func:`check_token`: missing header, not ``Bearer``, or the
                           wrong token (compared in constant time)
404    model_not_found     :func:`check_model`: the model is not served here
413    payload_too_large   the body is longer than ``max_bytes``, or it has more than
                           ``max_instances`` instances (413, not 422: the request is
                           valid but too big for this server; split the batch)
422    invalid_request     the body is not an object, ``instances`` is missing, not a
                           list or empty, or the body has keys other than ``instances``
422    invalid_instances   an instance is not an object, or a field is missing, extra,
                           of the wrong type, not finite, out of range; every problem is a
                           detail ``{"instance": i, "field": f, "problem": "..."}``
=====  ==================  =============================================================

Types follow the model signature, in the project's column types
(:mod:`raymlops.core.coltypes`; older signatures' ``double``, ``long`` and ``boolean`` are
read as ``float``, ``int`` and ``bool``): ``float`` takes a JSON number (an integer too);
``int`` an integer in the int64 range (a number with no fraction such as ``3.0`` too);
``bool`` only ``true``/``false`` (JSON ``true`` is not a number and ``1`` is not a
boolean); ``string`` only a string; ``datetime`` an ISO 8601 string (naive means UTC).
``null`` is not a value of any type. ``NaN``, ``Infinity`` and ``-Infinity``, which
Python's :mod:`json` accepts but JSON does not, and numbers that overflow a double
(``1e999``) are rejected per field with 422. Validated instances become a
:class:`pandas.DataFrame` with the signature's columns in order and dtypes ``int64``,
``float64``, ``bool``, ``object`` and ``datetime64[us]``.

Example:
    >>> sig = {"inputs": [{"name": "age", "type": "float"}, {"name": "city", "type": "string"}]}
    >>> parse_predict_request(b'{"instances": [{"age": 31, "city": "Oslo"}]}', sig).dtypes.astype(str).tolist()
    ['float64', 'object']
    >>> try:
    ...     parse_predict_request(b'{"instances": [{"age": "abc", "city": "Oslo"}]}', sig)
    ... except ClientError as e:
    ...     print(e.http_status, e.details)
    422 [{'instance': 0, 'field': 'age', 'problem': "expected float, got string 'abc'"}]
"""

from __future__ import annotations

import datetime
import hmac
import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from raymlops.core import coltypes
from raymlops.core.errors import InvalidInputError, NotFoundError, RaymlopsError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_INSTANCES",
    "MODEL_VERSION_HEADER",
    "ClientError",
    "FeedbackRequest",
    "InvalidInstancesError",
    "InvalidRequestError",
    "MalformedRequestError",
    "ModelNotServedError",
    "PayloadTooLargeError",
    "SignatureError",
    "UnauthorizedError",
    "check_model",
    "check_token",
    "error_body",
    "error_response",
    "feedback_response",
    "new_request_id",
    "parse_feedback_request",
    "parse_predict_request",
    "predict_response",
]

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_INSTANCES = 1000
MODEL_VERSION_HEADER = "x-model-version"

_MAX_DETAILS = 100  # problems listed in an error's details; the message gives the total
_MAX_DIGITS = 300  # longer integer literals are out of range for every type (1e300 < max double)
_INT64 = (-(2**63), 2**63 - 1)
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


# --------------------------------------------------------------------------- errors


class ClientError(RaymlopsError):
    """A request the client must fix (a 4xx), with its HTTP headers and JSON body."""

    code = "bad_request"
    http_status = 400
    exit_code = 2
    headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        """``{"error": {"code", "message", "details"}}``."""
        return {"error": self.to_dict()}


class MalformedRequestError(ClientError):
    """The body is not JSON (or not UTF-8, or has a duplicate key, or nests too deeply)."""

    code = "malformed_request"
    http_status = 400


class UnauthorizedError(ClientError):
    """A missing or wrong bearer token."""

    code = "unauthorized"
    http_status = 401
    headers = {"www-authenticate": 'Bearer realm="raymlops"'}


class ModelNotServedError(ClientError, NotFoundError):
    """The model in the path is not served by this application."""

    code = "model_not_found"
    http_status = 404
    template = (
        "model {name!r} is not served here; served models: {served}. "
        "Deploy it with `raymlops serve up --model {name}@VERSION`"
    )


class PayloadTooLargeError(ClientError):
    """The body or the number of instances is over the server's limit."""

    code = "payload_too_large"
    http_status = 413


class InvalidRequestError(ClientError):
    """Valid JSON without the shape of the contract."""

    code = "invalid_request"
    http_status = 422


class InvalidInstancesError(InvalidRequestError):
    """Instances that do not match the model signature; ``details`` lists every problem."""

    code = "invalid_instances"


class SignatureError(RaymlopsError):
    """The served model's signature is unusable: a server-side problem, not the client's."""

    code = "invalid_signature"
    http_status = 500


# --------------------------------------------------------------------------- strict JSON


class _Unnumber(NamedTuple):
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
    pass


def _parse_float(s: str) -> float | _Unnumber:
    x = float(s)
    return x if math.isfinite(x) else _Unnumber(s)


def _parse_int(s: str) -> int | _Unnumber:
    return _Unnumber(s) if len(s) > _MAX_DIGITS else int(s)


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
    parse_float=_parse_float, parse_int=_parse_int, parse_constant=_Unnumber, object_pairs_hook=_pairs
)


def _safe(s: str, limit: int = 100) -> str:
    """A string that encodes as UTF-8 (lone surrogates escaped), at most ``limit`` characters."""
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _is_unicode(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a "\\ud800" escape
        return False
    return True


def _load(body: bytes | bytearray | memoryview | str, max_bytes: int) -> Any:
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
        key = _safe(str(e.args[0]))
        raise MalformedRequestError(
            f"the key {key!r} appears twice in one JSON object; send each key once", details=[{"field": key}]
        ) from None
    except RecursionError:
        raise MalformedRequestError("the request body nests arrays or objects too deeply") from None
    except ValueError as e:  # e.g. a number literal the float parser refuses
        raise MalformedRequestError(f"the request body is not valid JSON: {_safe(str(e), 200)}") from None


def _kind(v: Any) -> str:
    """A JSON-flavoured description of a parsed value, for problem messages."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"boolean {'true' if v else 'false'}"
    if isinstance(v, _Unnumber):
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


# --------------------------------------------------------------------------- instances


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
        if t is _Unnumber:
            return None, f"expected a finite float, got {v.describe()}"
    elif typ == "int":
        if t is int:
            if _INT64[0] <= v <= _INT64[1]:
                return v, None
            return None, f"expected int, got {_kind(v)} (out of the int64 range)"
        if t is float:
            if v.is_integer() and _INT64[0] <= v < 2.0**63:
                return int(v), None
            return None, f"expected int, got {_kind(v)}" + ("" if v.is_integer() else " (has a fraction)")
    elif typ == "bool":
        if t is bool:
            return v, None
    elif typ == "string":
        if t is str:
            if _is_unicode(v):
                return v, None
            return None, "expected string, got a string with a lone surrogate (not valid Unicode)"
    elif typ == "datetime":
        if t is str:
            try:
                return np.datetime64(_iso_utc(v), "us"), None
            except ValueError:
                return None, f"expected an ISO 8601 date-time, got string {v[:40]!r}"
    return None, f"expected {typ}, got {_kind(v)}"


def _iso_utc(text: str) -> datetime.datetime:
    """An ISO 8601 date-time as naive UTC (an offset is converted; naive means UTC)."""
    parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return parsed


def _validate_instances(instances: list[Any], inputs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    names = {n for n, _ in inputs}
    problems: list[dict[str, Any]] = []
    bad_rows: set[int] = set()
    rows: list[dict[str, Any]] = []
    for i, inst in enumerate(instances):
        if not isinstance(inst, dict):
            problems.append({"instance": i, "problem": f"expected an object {{field: value}}, got {_kind(inst)}"})
            bad_rows.add(i)
            continue
        row: dict[str, Any] = {}
        for name, typ in inputs:
            if name not in inst:
                problems.append({"instance": i, "field": _safe(name), "problem": "missing required field"})
                bad_rows.add(i)
                continue
            value, problem = _convert(inst[name], typ)
            if problem is not None:
                problems.append({"instance": i, "field": _safe(name), "problem": problem})
                bad_rows.add(i)
            row[name] = value
        for k in inst:
            if k not in names:
                problems.append(
                    {"instance": i, "field": _safe(k), "problem": "unexpected field: not an input of the model"}
                )
                bad_rows.add(i)
        rows.append(row)
    if problems:
        first = problems[0]
        where = f"instance {first['instance']}" + (f" field {first['field']!r}" if "field" in first else "")
        expected = ", ".join(f"{n}: {t}" for n, t in inputs[:20]) + (", ..." if len(inputs) > 20 else "")
        details = problems[:_MAX_DETAILS]
        if len(problems) > _MAX_DETAILS:
            details.append({"problem": f"{len(problems) - _MAX_DETAILS} more problems not listed"})
        raise InvalidInstancesError(
            f"{len(problems)} problem(s) in {len(bad_rows)} of {len(instances)} instance(s); first: {where}: "
            f"{first['problem']}. Each instance is an object with exactly the model's inputs {{{expected}}}",
            details=details,
        )
    return rows


_DTYPES = {t: coltypes.numpy_dtype(t) for t in coltypes.COLUMN_TYPES}


def _frame(rows: list[dict[str, Any]], inputs: list[tuple[str, str]]) -> pd.DataFrame:
    """The rows as a DataFrame: one 2-D array per dtype (a 30-column frame in ~50 us, not 30 Series)."""
    names = [n for n, _ in inputs]
    index = pd.RangeIndex(len(rows))
    groups: dict[str, list[str]] = {}
    for name, typ in inputs:
        groups.setdefault(typ, []).append(name)
    parts = []
    for typ, cols in groups.items():
        arr = np.array([[r[c] for c in cols] for r in rows], dtype=_DTYPES[typ]).reshape(len(rows), len(cols))
        parts.append(pd.DataFrame(arr, columns=cols, index=index, dtype=object if typ == "string" else None))
    if len(parts) == 1:
        return parts[0]
    return pd.concat(parts, axis=1)[names]


def _limit(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{what} must be a positive integer, got {v!r}")
    return v


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
    max_bytes, max_instances = _limit(max_bytes, "max_bytes"), _limit(max_instances, "max_instances")
    inputs = _signature_inputs(signature)
    data = _load(body, max_bytes)
    if not isinstance(data, dict):
        raise InvalidRequestError(
            f'the body must be a JSON object {{"instances": [...]}}, got {_kind(data)}',
            details=[{"field": "", "problem": f"expected an object, got {_kind(data)}"}],
        )
    unknown = [k for k in data if k != "instances"]
    if unknown:
        raise InvalidRequestError(
            f"unknown key(s) {[_safe(k) for k in unknown[:10]]} in the body; it has only 'instances'",
            details=[{"field": _safe(k), "problem": "unknown field"} for k in unknown[:_MAX_DETAILS]],
        )
    if "instances" not in data:
        raise InvalidRequestError(
            'the body has no "instances": send {"instances": [{"<input>": value, ...}, ...]}',
            details=[{"field": "instances", "problem": "missing"}],
        )
    instances = data["instances"]
    if not isinstance(instances, list):
        raise InvalidRequestError(
            f'"instances" must be a list of objects, got {_kind(instances)}',
            details=[{"field": "instances", "problem": f"expected a list of objects, got {_kind(instances)}"}],
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
    rows = _validate_instances(instances, inputs)
    return _frame(rows, inputs) if as_frame else rows


# --------------------------------------------------------------------------- feedback


class FeedbackRequest(NamedTuple):
    """A parsed ``{"request_id", "labels"}`` body: the true labels of an earlier request's instances."""

    request_id: str
    labels: list[Any]


def parse_feedback_request(
    body: bytes | bytearray | memoryview | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_labels: int = DEFAULT_MAX_INSTANCES,
) -> FeedbackRequest:
    """Parse a feedback body ``{"request_id": "...", "labels": [...]}``.

    ``request_id`` is the id the predict response returned (1 to 128 of
    ``A-Z a-z 0-9 . _ : -``); ``labels`` has one label per instance of that request:
    a string, a finite number, a boolean, or ``null`` for an instance without a label.

    Raises:
        ClientError: 400 malformed, 413 too large (body or labels), 422 invalid.
    """
    max_bytes, max_labels = _limit(max_bytes, "max_bytes"), _limit(max_labels, "max_labels")
    data = _load(body, max_bytes)
    if not isinstance(data, dict):
        raise InvalidRequestError(
            f'the body must be a JSON object {{"request_id": "...", "labels": [...]}}, got {_kind(data)}',
            details=[{"field": "", "problem": f"expected an object, got {_kind(data)}"}],
        )
    problems: list[dict[str, Any]] = []
    for k in data:
        if k not in ("request_id", "labels"):
            problems.append({"field": _safe(k), "problem": "unknown field"})
    rid = data.get("request_id")
    if "request_id" not in data:
        problems.append({"field": "request_id", "problem": "missing"})
    elif not isinstance(rid, str) or not _REQUEST_ID_RE.match(rid):
        problems.append(
            {"field": "request_id", "problem": f"expected the request id of a predict response, got {_kind(rid)}"}
        )
    labels = data.get("labels")
    if "labels" not in data:
        problems.append({"field": "labels", "problem": "missing"})
    elif not isinstance(labels, list):
        problems.append({"field": "labels", "problem": f"expected a list, got {_kind(labels)}"})
    elif not labels:
        problems.append({"field": "labels", "problem": "empty list"})
    elif len(labels) > max_labels:
        raise PayloadTooLargeError(
            f"{len(labels)} labels is more than the limit of {max_labels} per request",
            details=[{"field": "labels", "labels": len(labels), "max_labels": max_labels}],
        )
    else:
        for i, v in enumerate(labels):
            ok = v is None or type(v) in (bool, int, float) or (isinstance(v, str) and _is_unicode(v))
            if not ok:
                problems.append({"label": i, "problem": f"expected a string, number, boolean or null, got {_kind(v)}"})
    if problems:
        raise InvalidRequestError(
            f"invalid feedback: {len(problems)} problem(s), first: {problems[0]['problem']} "
            f'({problems[0].get("field", "label " + str(problems[0].get("label")))}); '
            'send {"request_id": "<id from the predict response>", "labels": [...]}',
            details=problems[:_MAX_DETAILS],
        )
    return FeedbackRequest(rid, list(labels))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- auth, models


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
        raymlops.serving.protocol.UnauthorizedError: the bearer token is not valid; send the token configured for this server
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
        raise ModelNotServedError(name=_safe(str(name)), served=shown, details=[{"model": _safe(str(name))}])
    return name


# --------------------------------------------------------------------------- responses


def new_request_id() -> str:
    """A new random request id (32 hex digits)."""
    return uuid.uuid4().hex


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return v


def predict_response(predictions: Any, *, model_version: int | str, request_id: str) -> dict[str, Any]:
    """The 200 body ``{"predictions", "model_version", "request_id"}``.

    Numpy arrays and scalars and pandas Series become plain JSON values; a non-finite
    float prediction becomes ``null``. Send ``model_version`` in the
    :data:`MODEL_VERSION_HEADER` header too.

    Example:
        >>> predict_response(np.array([1, 0]), model_version=3, request_id="r1")
        {'predictions': [1, 0], 'model_version': '3', 'request_id': 'r1'}
    """
    if isinstance(predictions, (pd.Series, pd.Index)):
        predictions = predictions.to_numpy()
    elif isinstance(predictions, pd.DataFrame):
        predictions = predictions.to_dict(orient="records")
    return {"predictions": _plain(list(predictions)), "model_version": str(model_version), "request_id": request_id}


def feedback_response(request_id: str, *, accepted: int) -> dict[str, Any]:
    """The 200 body of a feedback request: ``{"request_id", "accepted"}`` (labels recorded)."""
    return {"request_id": request_id, "accepted": int(accepted)}


def error_body(error: RaymlopsError) -> dict[str, Any]:
    """``{"error": {"code", "message", "details"}}`` for any raymlops error."""
    return {"error": error.to_dict()}


def error_response(exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The HTTP status, JSON body and extra headers for an exception.

    A raymlops error keeps its status and message; anything else is a 500 whose body
    says nothing about the internals (log the exception on the server).

    Example:
        >>> status, body, headers = error_response(KeyError("secret"))
        >>> status, body["error"]["code"], body["error"]["message"]
        (500, 'internal', 'internal server error; the request was not processed')
    """
    if isinstance(exc, RaymlopsError):
        return exc.http_status, error_body(exc), dict(getattr(exc, "headers", {}) or {})
    message = "internal server error; the request was not processed"
    return 500, {"error": {"code": "internal", "message": message, "details": []}}, {}
