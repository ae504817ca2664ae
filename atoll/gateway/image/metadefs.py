"""Writes to Glance's metadata definitions catalog: to every up pod, and a pod that missed one is caught
up by a job that copies the namespace it touched whole (`sync_metadef_namespace`), or deletes it
(`sync_remove_metadef_namespace`) when the write deleted it. See `atoll.sync.metadefs`.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

from atoll.gateway.catchup import catch_up
from atoll.gateway.deps import Gateway
from atoll.gateway.fanout import every_pod_missed
from atoll.gateway.http import GatewayRequest, Reply

RESOURCE_TYPE = "metadef_namespace"


def touched(method: str, path: str, body: bytes) -> tuple[list[str], list[str]]:
    """The namespaces a write leaves as it should be copied, and those it deletes (by name): a create
    names its namespace in the body, a rename both the old name (gone) and the new."""
    parts = path.rstrip("/").split("/")  # "", "metadefs", "namespaces", name, ...
    if parts[1:3] != ["metadefs", "namespaces"]:
        return [], []
    if len(parts) == 3:
        name = _named(body)
        return ([name], []) if method == "POST" and name else ([], [])
    name = unquote(parts[3])
    if len(parts) > 4:
        return [name], []  # an object, property, tag or resource type association of the namespace
    if method == "DELETE":
        return [], [name]
    renamed = _named(body) if method == "PUT" else None
    if renamed and renamed != name:
        return [renamed], [name]
    return [name], []


def _named(body: bytes) -> str | None:
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return None
    name = document.get("namespace") if isinstance(document, dict) else None
    return name if isinstance(name, str) and name else None


async def write(gw: Gateway, request: GatewayRequest) -> Reply:
    body = await request.body() if request.method in ("POST", "PUT") else None
    written = await every_pod_missed(gw, request, body)
    if written.missed and written.response.status < 300:
        copied, deleted = touched(request.method, request.path, body or b"")
        for name in copied:
            await catch_up(gw, request, RESOURCE_TYPE, name, written.first, written.missed)
        for name in deleted:
            await catch_up(gw, request, RESOURCE_TYPE, name, written.first, written.missed, delete=True)
    return written.reply
