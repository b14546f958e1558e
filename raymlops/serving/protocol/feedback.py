"""Parsing a feedback body: the true labels of an earlier request's instances."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from raymlops.serving.protocol._json import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_INSTANCES,
    MAX_DETAILS,
    describe,
    is_unicode,
    limit,
    load_body,
    safe,
)
from raymlops.serving.protocol.errors import InvalidRequestError, PayloadTooLargeError

__all__ = ["FeedbackRequest", "parse_feedback_request"]

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


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
    max_bytes, max_labels = limit(max_bytes, "max_bytes"), limit(max_labels, "max_labels")
    data = load_body(body, max_bytes)
    if not isinstance(data, dict):
        raise InvalidRequestError(
            f'the body must be a JSON object {{"request_id": "...", "labels": [...]}}, got {describe(data)}',
            details=[{"field": "", "problem": f"expected an object, got {describe(data)}"}],
        )
    problems: list[dict[str, Any]] = []
    for k in data:
        if k not in ("request_id", "labels"):
            problems.append({"field": safe(k), "problem": "unknown field"})
    rid = data.get("request_id")
    if "request_id" not in data:
        problems.append({"field": "request_id", "problem": "missing"})
    elif not isinstance(rid, str) or not _REQUEST_ID_RE.match(rid):
        problems.append(
            {"field": "request_id", "problem": f"expected the request id of a predict response, got {describe(rid)}"}
        )
    labels = data.get("labels")
    if "labels" not in data:
        problems.append({"field": "labels", "problem": "missing"})
    elif not isinstance(labels, list):
        problems.append({"field": "labels", "problem": f"expected a list, got {describe(labels)}"})
    elif not labels:
        problems.append({"field": "labels", "problem": "empty list"})
    elif len(labels) > max_labels:
        raise PayloadTooLargeError(
            f"{len(labels)} labels is more than the limit of {max_labels} per request",
            details=[{"field": "labels", "labels": len(labels), "max_labels": max_labels}],
        )
    else:
        for i, v in enumerate(labels):
            ok = v is None or type(v) in (bool, int, float) or (isinstance(v, str) and is_unicode(v))
            if not ok:
                problems.append({"label": i, "problem": f"expected a string, number, boolean or null, got {describe(v)}"})
    if problems:
        raise InvalidRequestError(
            f"invalid feedback: {len(problems)} problem(s), first: {problems[0]['problem']} "
            f'({problems[0].get("field", "label " + str(problems[0].get("label")))}); '
            'send {"request_id": "<id from the predict response>", "labels": [...]}',
            details=problems[:MAX_DETAILS],
        )
    return FeedbackRequest(rid, list(labels))  # type: ignore[arg-type]
