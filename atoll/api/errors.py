"""Exception handlers: every error leaves the API as an OpenStack fault body."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from atoll.core.errors import AtollError, fault_body


def _where(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def describe_validation_error(errors: Sequence[Any]) -> str:
    """One sentence per problem, naming the field and what is wrong with it."""
    sentences = []
    for error in errors:
        loc = list(error.get("loc", ()))
        kind = error.get("type", "")
        message = str(error.get("msg", "invalid"))
        if kind == "json_invalid":
            sentences.append(f"Malformed request body: {error.get('ctx', {}).get('error', message)}.")
        elif loc and loc[0] == "body":
            field = _where(loc[1:]) or "body"
            if kind == "extra_forbidden":
                sentences.append(f"Unknown field {field} in the request body.")
            elif kind == "missing":
                sentences.append(f"Missing field {field} in the request body.")
            else:
                sentences.append(f"Invalid input for field/attribute {field}: {message}.")
        elif loc and loc[0] in ("query", "path"):
            sentences.append(f"Invalid value for {loc[0]} parameter {_where(loc[1:])}: {message}.")
        else:
            sentences.append(f"Invalid input: {message}.")
    return " ".join(sentences) or "Invalid request."


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(fault_body(400, describe_validation_error(exc.errors())), status_code=400)


async def _atoll(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AtollError)
    return JSONResponse(fault_body(exc.status, exc.message), status_code=exc.status)


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "Request failed."
    if exc.status_code == 404 and message == "Not Found":
        message = "The resource could not be found."
    return JSONResponse(fault_body(exc.status_code, message), status_code=exc.status_code, headers=exc.headers)


def _without_422(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI documents a 422 for every route with input; Atoll answers a 400 fault instead
    (documented by each router), so the generated 422 and its schemas are dropped."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            components = schema.get("components", {}).get("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                components.pop(name, None)
        return app.openapi_schema or {}

    return openapi


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(AtollError, _atoll)
    app.add_exception_handler(HTTPException, _http)
    app.openapi = _without_422(app)  # type: ignore[method-assign]
