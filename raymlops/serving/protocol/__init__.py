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

from raymlops.serving.protocol._json import DEFAULT_MAX_BYTES, DEFAULT_MAX_INSTANCES
from raymlops.serving.protocol.auth import check_model, check_token
from raymlops.serving.protocol.errors import (
    ClientError,
    InvalidInstancesError,
    InvalidRequestError,
    MalformedRequestError,
    ModelNotServedError,
    PayloadTooLargeError,
    SignatureError,
    UnauthorizedError,
)
from raymlops.serving.protocol.feedback import FeedbackRequest, parse_feedback_request
from raymlops.serving.protocol.predict import instances_frame, load_instances, parse_predict_request
from raymlops.serving.protocol.responses import (
    MODEL_VERSION_HEADER,
    error_body,
    error_response,
    feedback_response,
    new_request_id,
    predict_response,
)

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
    "instances_frame",
    "load_instances",
    "new_request_id",
    "parse_feedback_request",
    "parse_predict_request",
    "predict_response",
]
