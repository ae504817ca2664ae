"""Sort, limit and marker read as each service reads them.

The expected orders and messages were observed on the test bed's real
services (nova 34, cinder 29, glance 33, neutron 29), e.g. Nova sorting
``sort_key=vm_state&sort_key=display_name&sort_dir=desc`` as
``vm_state desc, display_name asc, uuid desc``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from atoll.core.errors import InvalidInput
from atoll.listing.declared import IMAGES, NETWORKS, SERVERS, VOLUMES
from atoll.listing.errors import InvalidLimit, InvalidSort, UnmergeableSort
from atoll.listing.fields import Collection
from atoll.listing.parsing import ListRequest, parse


def parsed(collection: Collection, query: str, microversion: tuple[int, int] = (2, 1)) -> ListRequest:
    return parse(collection, parse_qsl(query, keep_blank_values=True), max_limit=1000, microversion=microversion)


def order(collection: Collection, query: str, microversion: tuple[int, int] = (2, 1)) -> list[str]:
    spec = parsed(collection, query, microversion).spec
    return [f"{field.key} {'asc' if ascending else 'desc'}" for field, ascending in spec.keys]


SORTS = [
    (SERVERS, "", (2, 1), ["created_at desc", "uuid asc"]),
    (SERVERS, "sort_key=vm_state", (2, 1), ["vm_state desc", "uuid asc"]),
    (SERVERS, "sort_key=vm_state&sort_dir=asc", (2, 1), ["vm_state asc", "uuid asc"]),
    (SERVERS, "sort_dir=asc", (2, 1), ["created_at asc", "uuid asc"]),
    (
        SERVERS,
        "sort_key=vm_state&sort_key=display_name&sort_dir=desc",
        (2, 1),
        ["vm_state desc", "display_name asc", "uuid desc"],
    ),
    (
        SERVERS,
        "sort_key=display_name&sort_key=uuid&sort_dir=asc&sort_dir=desc",
        (2, 1),
        ["display_name asc", "uuid desc"],
    ),
    (SERVERS, "sort_key=uuid&sort_key=display_name", (2, 1), ["uuid desc"]),
    (SERVERS, "sort_key=id", (2, 1), ["created_at desc", "uuid asc"]),
    (
        SERVERS,
        "sort_key=id&sort_key=display_name&sort_dir=asc&sort_dir=desc",
        (2, 1),
        ["display_name desc", "uuid asc"],
    ),
    (SERVERS, "sort_key=locked", (2, 1), ["created_at desc", "uuid asc"]),
    (SERVERS, "sort_key=locked", (2, 73), ["locked desc", "uuid asc"]),
    (SERVERS, "sort_key=%20display_name%20&sort_dir=%20asc", (2, 1), ["display_name asc", "uuid asc"]),
    (VOLUMES, "", None, ["created_at desc", "id desc"]),
    (VOLUMES, "sort=name:asc", None, ["display_name asc", "created_at asc", "id asc"]),
    (VOLUMES, "sort=name", None, ["display_name desc", "created_at desc", "id desc"]),
    (VOLUMES, "sort=size:asc,name:desc", None, ["size asc", "display_name desc", "created_at asc", "id asc"]),
    (VOLUMES, "sort_key=name&sort_key=id&sort_dir=asc", None, ["display_name asc", "created_at asc", "id asc"]),
    (VOLUMES, "sort_key=size", None, ["size desc", "created_at desc", "id desc"]),
    (VOLUMES, "sort=id:asc,size:desc", None, ["id asc"]),
    (IMAGES, "", None, ["created_at desc", "id desc"]),
    (IMAGES, "sort_key=name", None, ["name desc", "created_at desc", "id desc"]),
    (IMAGES, "sort_key=name&sort_key=size&sort_dir=asc", None, ["name asc", "size asc", "created_at asc", "id asc"]),
    (IMAGES, "sort=name:asc", None, ["name asc", "created_at asc", "id asc"]),
    (IMAGES, "sort=name:asc,size:asc", None, ["name asc", "size asc", "created_at desc", "id desc"]),
    (
        IMAGES,
        "sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc",
        None,
        ["name asc", "size desc", "created_at desc", "id desc"],
    ),
    (NETWORKS, "", None, ["id asc"]),
    (NETWORKS, "sort_key=name&sort_dir=desc", None, ["name desc", "id asc"]),
    (NETWORKS, "sort_key=name&sort_dir=desc&sort_key=id&sort_dir=desc", None, ["name desc", "id desc"]),
    (NETWORKS, "sort_key=&sort_dir=", None, ["id asc"]),
]


@pytest.mark.parametrize(("collection", "query", "microversion", "expected"), SORTS)
def test_sort_parameters_are_read_as_the_service_reads_them(
    collection: Collection, query: str, microversion: tuple[int, int] | None, expected: list[str]
) -> None:
    assert order(collection, query, microversion or (2, 1)) == expected


NOVA_BAD_KEY = "Invalid input for query parameters sort_key. Value: bogus. 'bogus' is not one of ["
REFUSED = [
    (SERVERS, "sort_dir=up", (2, 1), "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'"),
    (
        SERVERS,
        "sort_key=display_name&sort_dir=asc&sort_dir=desc",
        (2, 1),
        "Invalid input received: Sort direction size exceeds sort key size",
    ),
    (SERVERS, "sort_key=bogus", (2, 1), NOVA_BAD_KEY),
    (SERVERS, "sort_key=id", (2, 75), "Invalid input for query parameters sort_key. Value: id. 'id' is not one of ["),
    (VOLUMES, "sort=bogus", None, "Invalid input received: Invalid sort key"),
    (VOLUMES, "sort_key=bogus", None, "Invalid input received: Invalid sort key"),
    (VOLUMES, "sort=name:asc,name:desc", None, "Invalid input received: Invalid sort key"),
    (VOLUMES, "sort=name:up", None, "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'."),
    (
        VOLUMES,
        "sort=name&sort_key=size",
        None,
        "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.",
    ),
    (
        IMAGES,
        "sort_key=bogus",
        None,
        "Invalid sort key: bogus. It must be one of the following: "
        "name, status, container_format, disk_format, size, id, created_at, updated_at.",
    ),
    (IMAGES, "sort_dir=up", None, "Invalid sort direction: up"),
    (IMAGES, "sort=name:up", None, "Invalid sort direction: up"),
    (IMAGES, "sort=name&sort_key=id", None, "Old and new sorting syntax cannot be combined"),
    (
        IMAGES,
        "sort_key=name&sort_key=id&sort_dir=asc&sort_dir=desc&sort_dir=asc",
        None,
        "Number of sort dirs does not match the number of sort keys",
    ),
    (NETWORKS, "sort_key=name", None, "The number of sort_keys and sort_dirs must be same"),
    (NETWORKS, "sort_key=bogus&sort_dir=asc", None, "['bogus'] is invalid attribute for sort_keys"),
    (
        NETWORKS,
        "sort_key=name&sort_dir=up",
        None,
        "['up'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'",
    ),
]


@pytest.mark.parametrize(("collection", "query", "microversion", "message"), REFUSED)
def test_sort_parameters_the_service_refuses_are_a_400_with_its_message(
    collection: Collection, query: str, microversion: tuple[int, int] | None, message: str
) -> None:
    with pytest.raises(InvalidSort) as caught:
        parsed(collection, query, microversion or (2, 1))
    assert caught.value.status == 400
    assert caught.value.message.startswith(message)
    assert message.endswith("[") or caught.value.message == message


def test_nova_names_every_key_it_would_take() -> None:
    with pytest.raises(InvalidSort) as caught:
        parsed(SERVERS, "sort_key=bogus", (2, 75))
    assert "'display_name'" in caught.value.message
    assert "'locked'" in caught.value.message
    assert "'vcpus'" not in caught.value.message


@pytest.mark.parametrize(
    ("collection", "key"),
    [(SERVERS, "availability_zone"), (SERVERS, "progress"), (SERVERS, "instance_type_id")],
)
def test_a_key_the_items_do_not_show_is_a_400_of_atolls_own(collection: Collection, key: str) -> None:
    with pytest.raises(UnmergeableSort, match=f"Cannot sort servers across pods by '{key}'"):
        parsed(collection, f"sort_key={key}")


LIMITS = [
    (SERVERS, "", 1000),
    (SERVERS, "limit=5", 5),
    (SERVERS, "limit=0", 0),
    (SERVERS, "limit=5000", 1000),
    (SERVERS, "limit=3&limit=7", 7),
    (VOLUMES, "", 1000),
    (VOLUMES, "limit=3&limit=7", 3),
    (IMAGES, "", 25),
    (IMAGES, "limit=1001", 1000),
    (NETWORKS, "", 1000),
    (NETWORKS, "limit=0", 1000),
    (NETWORKS, "limit=20", 20),
]


@pytest.mark.parametrize(("collection", "query", "limit"), LIMITS)
def test_limits_default_and_cap_as_the_service_does(collection: Collection, query: str, limit: int) -> None:
    assert parsed(collection, query).limit == limit


BAD_LIMITS = [
    (SERVERS, "limit=-1", "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'"),
    (SERVERS, "limit=x", "Invalid input for query parameters limit. Value: x. 'x' does not match '^[0-9]*$'"),
    (VOLUMES, "limit=x", "limit param must be an integer"),
    (IMAGES, "limit=-1", "limit param must be positive"),
    (NETWORKS, "limit=-1", "Bad limit request: Limit must be an integer 0 or greater and not '-1'."),
    (NETWORKS, "limit=x", "Bad limit request: Limit must be an integer 0 or greater and not 'x'."),
]


@pytest.mark.parametrize(("collection", "query", "message"), BAD_LIMITS)
def test_a_bad_limit_is_a_400_with_the_services_message(collection: Collection, query: str, message: str) -> None:
    with pytest.raises(InvalidLimit) as caught:
        parsed(collection, query)
    assert caught.value.message == message


def test_the_marker_is_the_one_the_service_would_read() -> None:
    assert parsed(SERVERS, "marker=a&marker=b").marker == "b"
    assert parsed(VOLUMES, "marker=a&marker=b").marker == "a"
    assert parsed(IMAGES, "marker=a&marker=b").marker == "a"
    assert parsed(NETWORKS, "marker=a&marker=b").marker == "b"
    assert parsed(NETWORKS, "").marker is None


def test_filters_are_everything_else_in_order_with_the_repeats_a_service_passes_on() -> None:
    nova = parsed(SERVERS, "name=web&sort_key=display_name&limit=2&all_tenants=1&marker=x&status=ACTIVE&status=ERROR")
    assert nova.filters == (("name", "web"), ("all_tenants", "1"), ("status", "ACTIVE"), ("status", "ERROR"))
    cinder = parsed(VOLUMES, "sort_key=name&sort_key=id&name=v&limit=1&limit=2")
    assert cinder.filters == (("sort_key", "id"), ("name", "v"), ("limit", "2"))
    neutron = parsed(NETWORKS, "page_reverse=True&name=n&sort_key=name&sort_dir=asc")
    assert neutron.filters == (("name", "n"),)
    assert neutron.spec.reverse


def test_cinder_offset_is_read_once_and_checked() -> None:
    listed = parsed(VOLUMES, "offset=2&limit=3&offset=5")
    assert (listed.offset, listed.limit) == (2, 3)
    assert listed.filters == ()  # the pods never skip: Atoll skips in the merged list
    assert parsed(VOLUMES, "").offset == 0
    for bad in ("offset=-1", "offset=x"):
        with pytest.raises(InvalidInput, match="offset"):
            parsed(VOLUMES, bad)


def test_pods_are_asked_in_their_own_syntax() -> None:
    assert parsed(VOLUMES, "sort=name:asc").spec.pod_params() == [("sort", "display_name:asc,created_at:asc,id:asc")]
    assert parsed(IMAGES, "").spec.pod_params() == [("sort", "created_at:desc,id:desc")]
    assert parsed(SERVERS, "sort_key=display_name").spec.pod_params() == [
        ("sort_key", "display_name"),
        ("sort_dir", "desc"),
        ("sort_key", "uuid"),
        ("sort_dir", "asc"),
    ]
    backwards = parsed(NETWORKS, "sort_key=name&sort_dir=asc&page_reverse=true").spec
    assert backwards.pod_params() == [
        ("sort_key", "name"),
        ("sort_dir", "desc"),
        ("sort_key", "id"),
        ("sort_dir", "desc"),
    ]
