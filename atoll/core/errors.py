"""Atoll's own errors.

    AtollError                      (status 500, never raised for bad input)
     ├── BadRequest                 400  badRequest
     │    └── InvalidInput          400  a field, parameter or body is wrong
     ├── Unauthorized               401  unauthorized
     ├── Forbidden                  403  forbidden
     ├── NotFound                   404  itemNotFound
     ├── Conflict                   409  conflictingRequest
     ├── BadGateway                 502  computeFault (an upstream answered something unreadable)
     └── ServiceUnavailable         503  serviceUnavailable (an upstream is down)

Every error carries the HTTP status it maps to and the OpenStack fault name
used as the key of the error body, so the API layer needs one handler for
all of them: ``{"badRequest": {"code": 400, "message": "..."}}``.
"""

from __future__ import annotations

from typing import ClassVar


class AtollError(Exception):
    status: ClassVar[int] = 500
    fault: ClassVar[str] = "internalServerError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(AtollError):
    status = 400
    fault = "badRequest"


class InvalidInput(BadRequest):
    pass


class Unauthorized(AtollError):
    status = 401
    fault = "unauthorized"


class Forbidden(AtollError):
    status = 403
    fault = "forbidden"


class NotFound(AtollError):
    status = 404
    fault = "itemNotFound"


class Conflict(AtollError):
    status = 409
    fault = "conflictingRequest"


class BadGateway(AtollError):
    status = 502
    fault = "computeFault"  # what Nova names a status it has no name for


class ServiceUnavailable(AtollError):
    status = 503
    fault = "serviceUnavailable"


FAULT_NAMES: dict[int, str] = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "notAcceptable",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    422: "badRequest",
    429: "overLimit",
    500: "internalServerError",
    501: "notImplemented",
    503: "serviceUnavailable",
}


def fault_body(status: int, message: str) -> dict[str, dict[str, object]]:
    """The OpenStack (Nova/Tricircle) error body for `status`."""
    return {FAULT_NAMES.get(status, "computeFault"): {"code": status, "message": message}}
