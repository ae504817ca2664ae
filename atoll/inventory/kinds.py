"""The kinds of resource the view lists, each declared once: where it is listed and how an item reads.

Every kind is listed with Atoll's service credentials (an admin token) and
the project filter of its service, checked against python-openstackclient's
``--project`` / ``--all-projects`` calls:

- Nova servers: ``GET /servers/detail?all_tenants=1&project_id=``, native sort ``uuid``;
- Cinder volumes and snapshots: ``GET /volumes/detail?all_tenants=1&project_id=``
  (``/snapshots/detail``), ``sort=id:asc``;
- Glance images: ``GET /v2/images?owner=``, ``sort_key=id``;
- Neutron networks, ports, security groups: ``GET /v2.0/<name>?project_id=``, ``sort_key=id``;
- Nova keypairs belong to a *user*, not a project: Nova lists them per user
  (``GET /os-keypairs?user_id=``, microversion 2.10). The view lists the
  keypairs of the calling user, and only when the listed project is the
  caller's own project; another project's keypairs are not listed.

Each kind is ordered by id in its pod (UUIDs, so every database agrees with the
merge); keypairs have no id, so all of a user's keypairs in a pod (at most
Nova's keypair quota, 100 by default) are read and ordered by name here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from atoll.types import ResourceType

Params = list[tuple[str, str]]


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of resource as the view lists it."""

    type: ResourceType
    service: str
    """The pod's service ("compute", "volume", "image", "network")."""
    path: str
    """The list call's path below the service's base URL."""
    collection: str
    """The key of the list in the answer; ``<collection>_links`` (Glance: ``next``) says more follow."""
    sort: tuple[tuple[str, str], ...]
    """Query parameters asking the pod for ascending ids."""
    project_key: tuple[str, ...]
    """Where an item shows its project (checked: an item of another project is never shown)."""
    created_key: str = "created_at"
    status_key: str | None = "status"
    project_filter: str = "project_id"
    all_tenants: bool = False
    central: bool = False
    """Also listed from the central Neutron."""
    microversion: str | None = None

    def params(self, project: str) -> Params:
        """The project filter and sort of this kind's list call."""
        params = [("all_tenants", "1")] if self.all_tenants else []
        return [*params, (self.project_filter, project), *self.sort]

    def view(self, item: Mapping[str, Any], pod: str, az: str | None, project: str) -> dict[str, Any]:
        """The view's item for one listed item."""
        status = item.get(self.status_key) if self.status_key else None
        return {
            "id": item.get("id"),
            "type": str(self.type),
            "name": item.get("name"),
            "status": status,
            "pod": pod,
            "az": az,
            "project_id": project,
            "created_at": utc(item.get(self.created_key)),
        }

    def project_of(self, item: Mapping[str, Any]) -> object:
        return next((item[key] for key in self.project_key if key in item), None)


def utc(value: object) -> str | None:
    """An ISO 8601 timestamp as UTC with ``Z`` (naive ones are UTC); anything else as None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed.isoformat(timespec="seconds") + "Z"


_BY_ID = (("sort_key", "id"), ("sort_dir", "asc"))
_NEUTRON_PROJECT = ("project_id", "tenant_id")

SERVER = Kind(
    ResourceType.SERVER,
    "compute",
    "/servers/detail",
    "servers",
    (("sort_key", "uuid"), ("sort_dir", "asc")),
    ("tenant_id",),
    created_key="created",
    all_tenants=True,
)
VOLUME = Kind(
    ResourceType.VOLUME,
    "volume",
    "/volumes/detail",
    "volumes",
    (("sort", "id:asc"),),
    ("os-vol-tenant-attr:tenant_id",),
    all_tenants=True,
)
SNAPSHOT = Kind(
    ResourceType.SNAPSHOT,
    "volume",
    "/snapshots/detail",
    "snapshots",
    (("sort", "id:asc"),),
    ("os-extended-snapshot-attributes:project_id",),
    all_tenants=True,
)
NETWORK = Kind(ResourceType.NETWORK, "network", "/v2.0/networks", "networks", _BY_ID, _NEUTRON_PROJECT, central=True)
PORT = Kind(ResourceType.PORT, "network", "/v2.0/ports", "ports", _BY_ID, _NEUTRON_PROJECT, central=True)
SECURITY_GROUP = Kind(
    ResourceType.SECURITY_GROUP,
    "network",
    "/v2.0/security-groups",
    "security_groups",
    _BY_ID,
    _NEUTRON_PROJECT,
    status_key=None,
    central=True,
)
IMAGE = Kind(ResourceType.IMAGE, "image", "/v2/images", "images", _BY_ID, ("owner",), project_filter="owner")
KEYPAIR = Kind(
    ResourceType.KEYPAIR,
    "compute",
    "/os-keypairs",
    "keypairs",
    (),
    (),
    status_key=None,
    project_filter="user_id",
    microversion="2.10",
)

KINDS: Mapping[str, Kind] = {
    str(kind.type): kind for kind in (SERVER, VOLUME, SNAPSHOT, NETWORK, PORT, KEYPAIR, IMAGE, SECURITY_GROUP)
}
"""Every kind by its type name, in the order the view lists them when no type is given."""
