"""The collections Atoll merges across pods, with the sort keys each service accepts.

Checked against nova 34, cinder 29, glance 33 and neutron 29 (the test bed's
versions): the key lists are the services' own (Nova's query schema, Glance's
``_available_sort_keys``, Neutron's ``is_sort_key`` attributes; Cinder accepts
any column, of which these are the ones its responses show). A key the
service accepts but whose value the items do not show is `unmergeable`:
Atoll answers 400 rather than a list it cannot order.
"""

from __future__ import annotations

from atoll.listing.fields import Collection, Field, Kind, fields
from atoll.types import ServiceType

S, N, T, B = Kind.STRING, Kind.NUMBER, Kind.TIMESTAMP, Kind.BOOLEAN

_EXT = "OS-EXT-SRV-ATTR:"

SERVERS = Collection(
    ServiceType.COMPUTE,
    "servers",
    fields(
        ("uuid", "id", S),
        ("created_at", "created", T),
        ("updated_at", "updated", T),
        ("display_name", "name", S),
        ("display_description", "description", S),
        ("vm_state", "OS-EXT-STS:vm_state", S),
        ("task_state", "OS-EXT-STS:task_state", S),
        ("power_state", "OS-EXT-STS:power_state", N),
        ("key_name", "key_name", S),
        ("user_id", "user_id", S),
        ("project_id", "tenant_id", S),
        ("launched_at", "OS-SRV-USG:launched_at", T),
        ("terminated_at", "OS-SRV-USG:terminated_at", T),
        ("host", _EXT + "host", S),
        ("node", _EXT + "hypervisor_hostname", S),
        ("hostname", _EXT + "hostname", S),
        ("kernel_id", _EXT + "kernel_id", S),
        ("ramdisk_id", _EXT + "ramdisk_id", S),
        ("root_device_name", _EXT + "root_device_name", S),
        ("launch_index", _EXT + "launch_index", N),
        ("config_drive", "config_drive", S),
        ("locked", "locked", B),
        ("image_ref", ("image", "id"), S),
        Field("access_ip_v4", ("accessIPv4",), S, empty_is_null=True),
        Field("access_ip_v6", ("accessIPv6",), S, empty_is_null=True),
    ),
    tiebreaker="uuid",
    # Nova takes these, but shows a computed value (the AZ of the host's aggregate, a
    # progress of 0 outside some states) or nothing at all.
    unmergeable=frozenset({"availability_zone", "auto_disk_config", "instance_type_id", "locked_by", "progress"}),
)

# Cinder reads ``name`` as ``display_name`` (for snapshots only from 3.30; the parser always does).
_VOLUME_KEYS = fields(
    ("id", "id", S),
    ("display_name", "name", S),
    ("display_description", "description", S),
    ("size", "size", N),
    ("status", "status", S),
    ("created_at", "created_at", T),
    ("updated_at", "updated_at", T),
    ("availability_zone", "availability_zone", S),
    ("bootable", "bootable", B),
    ("multiattach", "multiattach", B),
    ("user_id", "user_id", S),
    ("project_id", "os-vol-tenant-attr:tenant_id", S),
    ("host", "os-vol-host-attr:host", S),
    ("volume_type_id", "volume_type_id", S),
    ("group_id", "group_id", S),
)
VOLUMES = Collection(ServiceType.BLOCK_STORAGE, "volumes", _VOLUME_KEYS, tiebreaker="id")

_SNAPSHOT_KEYS = fields(
    ("id", "id", S),
    ("display_name", "name", S),
    ("display_description", "description", S),
    ("volume_size", "size", N),
    ("volume_id", "volume_id", S),
    ("status", "status", S),
    ("created_at", "created_at", T),
    ("updated_at", "updated_at", T),
    ("project_id", "os-extended-snapshot-attributes:project_id", S),
)
SNAPSHOTS = Collection(ServiceType.BLOCK_STORAGE, "snapshots", _SNAPSHOT_KEYS, tiebreaker="id")

_BACKUP_KEYS = fields(
    ("id", "id", S),
    ("display_name", "name", S),
    ("display_description", "description", S),
    ("size", "size", N),
    ("volume_id", "volume_id", S),
    ("status", "status", S),
    ("created_at", "created_at", T),
    ("updated_at", "updated_at", T),
    ("availability_zone", "availability_zone", S),
    ("container", "container", S),
    ("project_id", "os-backup-project-attr:project_id", S),
)
BACKUPS = Collection(ServiceType.BLOCK_STORAGE, "backups", _BACKUP_KEYS, tiebreaker="id")

IMAGES = Collection(
    ServiceType.IMAGE,
    "images",
    fields(
        ("name", "name", S),
        ("status", "status", S),
        ("container_format", "container_format", S),
        ("disk_format", "disk_format", S),
        ("size", "size", N),
        ("id", "id", S),
        ("created_at", "created_at", T),
        ("updated_at", "updated_at", T),
    ),
    tiebreaker="id",
)


NOVA_IMAGES = Collection(
    ServiceType.COMPUTE,
    "images",
    fields(("created_at", "created", T), ("id", "id", S)),
    tiebreaker="id",
)
"""Nova's image API: Glance's list in Nova's shape, in Glance's default order (Nova passes no sort)."""


def _neutron(name: str, *extra: tuple[str, str, Kind]) -> Collection:
    keys = fields(("id", "id", S), ("tenant_id", "tenant_id", S), ("project_id", "project_id", S), *extra)
    return Collection(ServiceType.NETWORK, name, keys, tiebreaker="id")


NETWORKS = _neutron("networks", ("name", "name", S), ("status", "status", S), ("admin_state_up", "admin_state_up", B))
PORTS = _neutron(
    "ports",
    ("name", "name", S),
    ("status", "status", S),
    ("admin_state_up", "admin_state_up", B),
    ("device_id", "device_id", S),
    ("device_owner", "device_owner", S),
    ("mac_address", "mac_address", S),
    ("network_id", "network_id", S),
)
SUBNETS = _neutron(
    "subnets",
    ("name", "name", S),
    ("cidr", "cidr", S),
    ("enable_dhcp", "enable_dhcp", B),
    ("gateway_ip", "gateway_ip", S),
    ("ip_version", "ip_version", N),
    ("ipv6_address_mode", "ipv6_address_mode", S),
    ("ipv6_ra_mode", "ipv6_ra_mode", S),
    ("network_id", "network_id", S),
    ("subnetpool_id", "subnetpool_id", S),
)
ROUTERS = _neutron("routers", ("name", "name", S), ("status", "status", S), ("admin_state_up", "admin_state_up", B))
FLOATINGIPS = _neutron(
    "floatingips",
    ("fixed_ip_address", "fixed_ip_address", S),
    ("floating_ip_address", "floating_ip_address", S),
    ("floating_network_id", "floating_network_id", S),
    ("router_id", "router_id", S),
    ("status", "status", S),
)

ALL = (SERVERS, VOLUMES, SNAPSHOTS, BACKUPS, IMAGES, NOVA_IMAGES, NETWORKS, PORTS, SUBNETS, ROUTERS, FLOATINGIPS)
