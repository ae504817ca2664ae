"""Version documents at `/` and `/v1.0` (unauthenticated, as in every OpenStack API)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["versions"])

VERSION_ID = "v1.0"


def _version(request: Request) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {
        "id": VERSION_ID,
        "status": "CURRENT",
        "updated": "2026-11-22T00:00:00Z",
        "links": [{"rel": "self", "href": f"{base}/{VERSION_ID}/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.atoll+json;version=1.0"}],
    }


@router.get("/", summary="List API versions", status_code=300)
async def versions(request: Request) -> JSONResponse:
    return JSONResponse({"versions": [_version(request)]}, status_code=300)


@router.get("/v1.0", summary="Show the v1.0 API version")
@router.get("/v1.0/", include_in_schema=False)
async def version(request: Request) -> dict[str, Any]:
    return {"version": _version(request)}
