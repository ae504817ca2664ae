"""Each declared collection against its service's own list of sort keys, and where values are found."""

from __future__ import annotations

import pytest

from atoll.listing.declared import ALL, FLOATINGIPS, IMAGES, NETWORKS, PORTS, ROUTERS, SERVERS, SUBNETS
from atoll.listing.errors import PodUnavailable
from atoll.listing.fields import MISSING, Collection, Field, Kind
from atoll.listing.parsing import GLANCE_SORT_KEYS, NOVA_IGNORED_SORT_KEYS

# nova/api/openstack/compute/schemas/servers.py (nova 34): VALID_SORT_KEYS without the ignore list
NOVA_SORT_KEYS = {
    "access_ip_v4",
    "access_ip_v6",
    "auto_disk_config",
    "availability_zone",
    "config_drive",
    "created_at",
    "display_description",
    "display_name",
    "host",
    "hostname",
    "image_ref",
    "instance_type_id",
    "kernel_id",
    "key_name",
    "launch_index",
    "launched_at",
    "locked_by",
    "node",
    "power_state",
    "progress",
    "project_id",
    "ramdisk_id",
    "root_device_name",
    "task_state",
    "terminated_at",
    "updated_at",
    "user_id",
    "uuid",
    "vm_state",
}

# neutron-lib 5.0.1 api definitions, attributes with is_sort_key (+ project_id, added by Neutron)
NEUTRON_SORT_KEYS = {
    NETWORKS.name: {"admin_state_up", "id", "name", "status", "tenant_id"},
    PORTS.name: {
        "admin_state_up",
        "device_id",
        "device_owner",
        "id",
        "mac_address",
        "name",
        "network_id",
        "status",
        "tenant_id",
    },
    SUBNETS.name: {
        "cidr",
        "enable_dhcp",
        "gateway_ip",
        "id",
        "ip_version",
        "ipv6_address_mode",
        "ipv6_ra_mode",
        "name",
        "network_id",
        "subnetpool_id",
        "tenant_id",
    },
    ROUTERS.name: {"admin_state_up", "id", "name", "status", "tenant_id"},
    FLOATINGIPS.name: {
        "fixed_ip_address",
        "floating_ip_address",
        "floating_network_id",
        "id",
        "router_id",
        "status",
        "tenant_id",
    },
}


def test_nova_servers_declare_every_sort_key_nova_takes() -> None:
    assert set(SERVERS.keys) | SERVERS.unmergeable == NOVA_SORT_KEYS | {"locked"}
    assert not set(SERVERS.keys) & SERVERS.unmergeable
    assert "locked" in NOVA_IGNORED_SORT_KEYS
    assert not NOVA_IGNORED_SORT_KEYS & NOVA_SORT_KEYS


def test_glance_images_declare_exactly_glances_sort_keys() -> None:
    assert set(IMAGES.keys) == set(GLANCE_SORT_KEYS)


@pytest.mark.parametrize("collection", [NETWORKS, PORTS, SUBNETS, ROUTERS, FLOATINGIPS], ids=lambda c: c.name)
def test_neutron_collections_declare_exactly_neutrons_sort_keys(collection: Collection) -> None:
    assert set(collection.keys) == NEUTRON_SORT_KEYS[collection.name] | {"project_id"}


@pytest.mark.parametrize("collection", ALL, ids=lambda c: c.name)
def test_every_collection_is_totally_ordered_by_its_tiebreaker(collection: Collection) -> None:
    tiebreaker = collection.keys[collection.tiebreaker]
    assert tiebreaker.kind is Kind.STRING
    assert tiebreaker.value({"id": "x"}) == "x"  # the unique key is the id every item shows
    assert all(key == field.key or collection.keys[field.key] is field for key, field in collection.keys.items())


SERVER = {
    "id": "3c7e",
    "name": "web",
    "created": "2026-01-01T00:00:00Z",
    "image": "",
    "accessIPv4": "",
    "accessIPv6": "2001:db8::1",
    "OS-EXT-STS:power_state": 1,
    "locked": False,
    "tenant_id": "p",
}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("uuid", "3c7e"),
        ("display_name", "web"),
        ("created_at", "2026-01-01T00:00:00Z"),
        ("image_ref", ""),
        ("access_ip_v4", None),
        ("access_ip_v6", "2001:db8::1"),
        ("power_state", 1),
        ("locked", False),
        ("project_id", "p"),
        ("hostname", MISSING),
    ],
)
def test_a_server_shows_each_sort_value_where_nova_puts_it(key: str, value: object) -> None:
    assert SERVERS.keys[key].value(SERVER) == value


def test_an_image_ref_is_read_from_the_image_object() -> None:
    assert SERVERS.keys["image_ref"].value({"image": {"id": "img", "links": []}}) == "img"
    assert Field("x", ("a", "b")).value({"a": {"b": {"c": 1}}}) is MISSING
    assert Field("x", ("a",)).value({"a": [1]}) is MISSING


def test_an_item_without_an_id_makes_its_pod_unusable() -> None:
    with pytest.raises(PodUnavailable, match="listed servers without an id"):
        SERVERS.item_id({"name": "x"})
    assert SERVERS.item_id({"id": "abc"}) == "abc"
