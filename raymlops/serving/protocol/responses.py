"""The bodies of the HTTP answers: predictions, feedback receipts and errors."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd

from raymlops.core.errors import RaymlopsError
from raymlops.core.values import plain

__all__ = [
    "MODEL_VERSION_HEADER",
    "error_body",
    "error_response",
    "feedback_response",
    "new_request_id",
    "predict_response",
]

MODEL_VERSION_HEADER = "x-model-version"


def new_request_id() -> str:
    """A new random request id (32 hex digits)."""
    return uuid.uuid4().hex


def predict_response(predictions: Any, *, model_version: int | str, request_id: str) -> dict[str, Any]:
    """The 200 body ``{"predictions", "model_version", "request_id"}``.

    Numpy arrays and scalars and pandas Series become plain JSON values; a non-finite
    float prediction becomes ``null``. Send ``model_version`` in the
    :data:`MODEL_VERSION_HEADER` header too.

    Example:
        >>> import numpy as np
        >>> predict_response(np.array([1, 0]), model_version=3, request_id="r1")
        {'predictions': [1, 0], 'model_version': '3', 'request_id': 'r1'}
    """
    if isinstance(predictions, (pd.Series, pd.Index)):
        predictions = predictions.to_numpy()
    elif isinstance(predictions, pd.DataFrame):
        predictions = predictions.to_dict(orient="records")
    return {"predictions": plain(list(predictions), nonfinite=None), "model_version": str(model_version), "request_id": request_id}


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
