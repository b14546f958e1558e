"""The errors of the HTTP contract: each knows its status, its headers and its JSON body."""

from __future__ import annotations

from typing import Any

from raymlops.core.errors import NotFoundError, RaymlopsError

__all__ = [
    "ClientError",
    "InvalidInstancesError",
    "InvalidRequestError",
    "MalformedRequestError",
    "ModelNotServedError",
    "PayloadTooLargeError",
    "SignatureError",
    "UnauthorizedError",
]


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
