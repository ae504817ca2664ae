"""The OpenStack fault bodies errors leave the API as, for the OpenAPI document.

``{"badRequest": {"code": 400, "message": "..."}}``: the key names the fault
(`atoll.core.errors.FAULT_NAMES`), so each status has its own model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, create_model

from atoll.core.errors import FAULT_NAMES


class FaultDetail(BaseModel):
    code: int
    message: str


_DESCRIPTIONS = {
    400: "The request is malformed or a field, parameter or body is invalid.",
    401: "No valid X-Auth-Token.",
    403: "The policy does not allow the caller this operation.",
    404: "The resource could not be found.",
    409: "The request conflicts with the current state (a duplicate, or a resource in use).",
    503: "A service Atoll needs is unavailable or not configured.",
}

_MODELS: dict[int, type[BaseModel]] = {
    status: create_model(f"Fault{status}", **{FAULT_NAMES[status]: (FaultDetail, ...)})  # type: ignore[call-overload]
    for status in _DESCRIPTIONS
}


def fault_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a FastAPI router or route, documenting the faults it answers with."""
    return {status: {"model": _MODELS[status], "description": _DESCRIPTIONS[status]} for status in statuses}
