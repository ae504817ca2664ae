"""One fake pod (aiohttp on loopback) serving the list calls the resource view makes, as the services do:
the project filter, ascending ids, ``limit``/``marker`` with each service's refusal of a gone marker, and
its next links. `ignore_filter` makes it list every project's items (a pod that must not leak)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tests.unit.pods.fakepod import FakePod


@dataclasses.dataclass(frozen=True)
class Listing:
    type: str
    path: str
    collection: str
    filter: str
    project_key: str
    refusal: tuple[int, str]
    links: str = "links"
    """"links": ``<collection>_links``; "glance": a ``next`` member."""


LISTINGS = (
    Listing("server", "/v2.1/servers/detail", "servers", "project_id", "tenant_id", (400, "marker [{}] not found")),
    Listing("volume", "/v3/volumes/detail", "volumes", "project_id", "os-vol-tenant-attr:tenant_id", (404, "")),
    Listing(
        "snapshot",
        "/v3/snapshots/detail",
        "snapshots",
        "project_id",
        "os-extended-snapshot-attributes:project_id",
        (404, ""),
    ),
    Listing("image", "/v2/images", "images", "owner", "owner", (400, "No image found with ID {}"), links="glance"),
    Listing("network", "/v2.0/networks", "networks", "project_id", "project_id", (404, "")),
    Listing("port", "/v2.0/ports", "ports", "project_id", "project_id", (404, "")),
    Listing("security_group", "/v2.0/security-groups", "security_groups", "project_id", "project_id", (404, "")),
)
BY_TYPE = {listing.type: listing for listing in LISTINGS}


class FakeCloud(FakePod):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, list[dict[str, Any]]] = {listing.type: [] for listing in LISTINGS}
        self.keypairs: dict[str, list[str]] = {}
        """User id -> keypair names."""
        self.ignore_filter = False
        for listing in LISTINGS:
            self.route("GET", listing.path, self._lister(listing))
        self.route("GET", "/v2.1/os-keypairs", self._keypairs)

    def add(self, type_: str, project: str, name: str = "", **extra: Any) -> dict[str, Any]:
        listing = BY_TYPE[type_]
        created = "created" if type_ == "server" else "created_at"
        item = {
            "id": str(uuid.uuid4()),
            "name": name or f"{type_}-{len(self.items[type_])}",
            "status": "ACTIVE",
            created: "2026-11-23T10:00:00Z" if type_ != "volume" else "2026-11-23T10:00:00.000000",
            listing.project_key: project,
            **extra,
        }
        self.items[type_].append(item)
        return item

    def _lister(self, listing: Listing) -> Any:
        async def answer(request: web.Request) -> web.StreamResponse:
            project = None if self.ignore_filter else request.query.get(listing.filter)
            status, body = list_page(listing, self.items[listing.type], project, request.query, str(request.url))
            return web.json_response(body, status=status)

        return answer

    async def _keypairs(self, request: web.Request) -> web.StreamResponse:
        user = request.query.get("user_id", "")
        pairs = [{"keypair": {"name": name, "fingerprint": "f", "type": "ssh"}} for name in self.keypairs.get(user, [])]
        return web.json_response({"keypairs": pairs})


def list_page(
    listing: Listing, items: list[dict[str, Any]], project: str | None, query: Mapping[str, str], url: str
) -> tuple[int, dict[str, Any]]:
    """A service's answer to a list call: status and body."""
    chosen = sorted(
        (i for i in items if project is None or i[listing.project_key] == project), key=lambda i: str(i["id"])
    )
    marker = query.get("marker")
    if marker is not None:
        ids = [i["id"] for i in chosen]
        if marker not in ids:
            status, text = listing.refusal
            return status, {"error": {"message": text.format(marker)}}
        chosen = chosen[ids.index(marker) + 1 :]
    limit = int(query.get("limit", "1000"))
    page, more = chosen[:limit], len(chosen) > limit
    body: dict[str, Any] = {listing.collection: page}
    href = f"{url}&marker=x"
    if listing.links == "glance":
        body["first"] = url
        if more:
            body["next"] = href
    else:
        links = [{"rel": "previous", "href": href}] if marker else []
        body[f"{listing.collection}_links"] = links + ([{"rel": "next", "href": href}] if more else [])
    return 200, body
