"""Nova's resources, as Atoll routes them."""

from __future__ import annotations

from atoll.resources.spec import Placement, Resource
from atoll.types import ResourceType

SERVER = Resource(
    name="server",
    missing="Instance {id} could not be found.",
    service="compute",
    path="/servers",
    collection_key="servers",
    member_key="server",
    placement=Placement.SCHEDULED,
    routing_type=ResourceType.SERVER,
    links_key="servers_links",
    detail_path="/servers/detail",
    merged=True,
    filters=frozenset(
        [
            "all_tenants",
            "availability_zone",
            "changes-before",
            "changes-since",
            "config_drive",
            "created_at",
            "deleted",
            "description",
            "flavor",
            "host",
            "hostname",
            "image",
            "image_ref",
            "ip",
            "ip6",
            "key_name",
            "launch_index",
            "launched_at",
            "locked",
            "locked_by",
            "name",
            "node",
            "not-tags",
            "not-tags-any",
            "power_state",
            "progress",
            "project_id",
            "reservation_id",
            "status",
            "tags",
            "tags-any",
            "task_state",
            "tenant_id",
            "terminated_at",
            "user_id",
            "uuid",
            "vm_state",
        ]
    ),
    sub_resources=(
        "action",
        "metadata",
        "tags",
        "ips",
        "os-volume_attachments",
        "os-interface",
        "os-instance-actions",
        "os-server-password",
        "os-security-groups",
        "diagnostics",
        "migrations",
        "topology",
        "remote-consoles",
        "share",
    ),
)

SERVER_GROUP = Resource(
    name="server_group",
    missing="Server group {id} could not be found.",
    service="compute",
    path="/os-server-groups",
    collection_key="server_groups",
    member_key="server_group",
    placement=Placement.SCHEDULED,
    routing_type=ResourceType.SERVER_GROUP,
    filters=frozenset({"all_projects", "limit", "offset"}),
)

FLAVOR = Resource(
    name="flavor",
    missing="Flavor {id} could not be found.",
    service="compute",
    path="/flavors",
    collection_key="flavors",
    member_key="flavor",
    placement=Placement.GLOBAL,
    routing_type=ResourceType.FLAVOR,
    links_key="flavors_links",
    detail_path="/flavors/detail",
    filters=frozenset({"is_public", "minDisk", "minRam"}),
    sub_resources=("os-extra_specs", "os-flavor-access", "action"),
)

KEYPAIR = Resource(
    name="keypair",
    missing="Keypair {id} not found for user {user}",
    service="compute",
    path="/os-keypairs",
    collection_key="keypairs",
    member_key="keypair",
    placement=Placement.GLOBAL,
    routing_type=ResourceType.KEYPAIR,
    id_key="name",
    links_key="keypairs_links",
    filters=frozenset({"user_id"}),
    wrapped_items=True,
)

AVAILABILITY_ZONE = Resource(
    name="availability_zone",
    service="compute",
    path="/os-availability-zone",
    collection_key="availabilityZoneInfo",
    member_key="availabilityZoneInfo",
    placement=Placement.ATOLL,
    detail_path="/os-availability-zone/detail",
)

LIMITS = Resource(
    name="limits",
    service="compute",
    path="/limits",
    collection_key="limits",
    member_key="limits",
    placement=Placement.ANY_POD,
    filters=frozenset({"tenant_id", "reserved"}),
)

QUOTA_SET = Resource(
    name="quota_set",
    service="compute",
    path="/os-quota-sets",
    collection_key="quota_sets",
    member_key="quota_set",
    placement=Placement.ANY_POD,
    filters=frozenset({"user_id"}),
    sub_resources=("defaults", "detail"),
)

NOVA_IMAGE = Resource(
    name="nova_image",
    missing="Image {id} could not be found.",  # unused: a 404 of this API is a pod's own ("Image not found.")
    service="compute",
    path="/images",
    collection_key="images",
    member_key="image",
    placement=Placement.GLOBAL,
    routing_type=ResourceType.IMAGE,
    links_key="images_links",
    detail_path="/images/detail",
    merged=True,
    filters=frozenset({"name", "status", "changes-since", "server", "type", "minRam", "minDisk"}),
    sub_resources=("metadata",),
)
"""Nova's image API (a proxy to Glance, 404 from microversion 2.36): Glance's images in Nova's shape."""

COMPUTE_RESOURCES: tuple[Resource, ...] = (
    SERVER,
    SERVER_GROUP,
    FLAVOR,
    KEYPAIR,
    AVAILABILITY_ZONE,
    LIMITS,
    QUOTA_SET,
    NOVA_IMAGE,
)
