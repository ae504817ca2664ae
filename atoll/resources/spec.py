"""How an OpenStack resource is described to Atoll: once, as data.

The gateway's routes, the list merge, scheduling and (later) sync and quota all
read these declarations; adding a resource is a declaration plus its tests.
"""

from __future__ import annotations

import dataclasses
import enum

from atoll.types import ResourceType


class Placement(enum.Enum):
    """Where a resource lives, which decides what the gateway does with each call."""

    SCHEDULED = "scheduled"
    """Created in one pod chosen by scheduling; found again through the routing table (server, volume)."""
    GLOBAL = "global"
    """The same id in every pod (flavor, keypair, volume type, image): forwarded to a pod for
    now; made in every pod by the sync jobs later."""
    CENTRAL = "central"
    """Lives in the central Neutron; realized in a pod when used there (network, port, ...)."""
    ATOLL = "atoll"
    """Answered by Atoll from what it knows (availability zones made of pods)."""
    ANY_POD = "any_pod"
    """Per project or per deployment, the same through any pod (limits, quota sets): forwarded to one up pod."""


@dataclasses.dataclass(frozen=True)
class Resource:
    name: str
    """Singular name, e.g. "server"."""
    service: str
    """The service it belongs to ("compute", "volume", "image", "network")."""
    path: str
    """Collection path below the service's version, e.g. "/servers"."""
    collection_key: str
    """Key of the list in a list reply: {"servers": [...]}."""
    member_key: str
    """Key of one item in show/create replies: {"server": {...}}."""
    placement: Placement
    routing_type: ResourceType | None = None
    """The routing table's resource_type of this resource, if Atoll routes it."""
    id_key: str = "id"
    """The field that identifies an item in URLs (keypairs: "name")."""
    links_key: str | None = None
    """Key of the next links of a list reply ("servers_links"), if the service paginates it."""
    detail_path: str | None = None
    """The detailed list's path ("/servers/detail"), if it has one."""
    merged: bool = False
    """Lists fan out to every pod and merge with `atoll.listing`, whose collection of the same
    service and `collection_key` holds the sort keys, their fields and the tie-breaker."""
    filters: frozenset[str] = frozenset()
    """Query parameters of a list call, forwarded to every pod."""
    wrapped_items: bool = False
    """Each list item is itself wrapped in the member key ({"keypairs": [{"keypair": {...}}]})."""
    sub_resources: tuple[str, ...] = ()
    """Paths below one item ("metadata", "action", ...) served by the item's pod."""
    missing: str = "{name} {id} could not be found."
    """The service's not-found message ({name}, {id}, {user} are filled in)."""
    min_microversion: str | None = None
    """The first microversion the resource exists in, if not the service's base version."""

    @property
    def member_path(self) -> str:
        return f"{self.path}/{{{self.name}_id}}"

    def not_found(self, item_id: str, user: str | None = None) -> str:
        return self.missing.format(name=self.name.replace("_", " ").capitalize(), id=item_id, user=user or "")

    @property
    def paginated(self) -> bool:
        return self.links_key is not None
