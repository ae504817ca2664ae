"""One Neutron API (the central one, or a pod's), as the network layer calls it.

The gateway implements `Neutron` with its forwarder (the caller's token, the request
id); tests implement it in memory. A refusal becomes an Atoll error that says which
Neutron refused what:

    400, 401, 403, 404, 409 from Neutron  ->  the Atoll error of that status
    another 4xx                           ->  BadRequest (400)
    5xx                                   ->  ServiceUnavailable (503)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from atoll.core.errors import AtollError, BadRequest, Conflict, Forbidden, NotFound, ServiceUnavailable, Unauthorized
from atoll.pods.client import PodResponse

Query = Sequence[tuple[str, str]]


_REFUSALS: dict[int, type[AtollError]] = {401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict}


class Neutron(Protocol):
    name: str
    """Who this Neutron is, for messages: "the central Neutron", "pod Pod1"."""

    async def call(self, method: str, path: str, *, json_body: Any = None, query: Query = ()) -> PodResponse: ...


def _message(response: PodResponse) -> str:
    try:
        document = json.loads(response.body)
    except ValueError:
        return response.body.decode("utf-8", "replace")[:200]
    error = document.get("NeutronError") if isinstance(document, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return str(document)[:200]


async def call(neutron: Neutron, method: str, path: str, *, json_body: Any = None, query: Query = ()) -> Any:
    """The JSON answer of a call that succeeded (None for a 204), or the Atoll error of a refusal."""
    response = await neutron.call(method, path, json_body=json_body, query=query)
    if response.status < 300:
        return response.json() if response.body else None
    message = f"The network service of {neutron.name} refused {method} {path}: {_message(response)}"
    if response.status >= 500:
        raise ServiceUnavailable(message)
    raise refused(response.status, message)


def refused(status: int, message: str) -> AtollError:
    return _REFUSALS.get(status, BadRequest)(message)


async def show(neutron: Neutron, collection: str, item_id: str) -> dict[str, Any] | None:
    """One object by id, None if this Neutron does not have it (or the caller may not see it)."""
    response = await neutron.call("GET", f"/{collection}/{item_id}")
    if response.status == 404:
        return None
    if response.status >= 300:
        await call(neutron, "GET", f"/{collection}/{item_id}")  # raises the refusal
    member: dict[str, Any] = response.json()[_member(collection)]
    return member


async def find(neutron: Neutron, collection: str, query: Query) -> list[dict[str, Any]]:
    document = await call(neutron, "GET", f"/{collection}", query=query)
    items: list[dict[str, Any]] = document[collection.replace("-", "_")]
    return items


def _member(collection: str) -> str:
    key = collection.replace("-", "_")
    return key[:-1] if key.endswith("s") else key


async def delete_port(neutron: Neutron, port_id: str) -> None:
    """Delete a port, a server's too: Neutron lets a project member delete a port owned by
    `compute:*` only once that owner is cleared. A port already gone is not an error."""
    cleared = {"port": {"device_owner": "", "device_id": ""}}
    response = await neutron.call("PUT", f"/ports/{port_id}", json_body=cleared)
    if response.status == 404:
        return
    response = await neutron.call("DELETE", f"/ports/{port_id}")
    if response.status >= 300 and response.status != 404:
        await call(neutron, "DELETE", f"/ports/{port_id}")  # raises the refusal
