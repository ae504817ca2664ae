"""atoll.listing against the real pods: Nova, Cinder and Glance lists merged across Pod1 and Pod2.

The fetch here is what the gateway's will be (HTTP to each pod with the
user's token, the pod's next link as ``more``, its refusal of a marker as
`MarkerNotFound`). Each listing is paged through with several page sizes
and sorts and must be exactly the union of what the pods hold, in the
order their databases (MariaDB) sort it. Resources are made with names
that only sort right under MariaDB's general_ci and PAD SPACE rules.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from atoll.listing import declared
from atoll.listing.errors import MarkerNotFound, PodUnavailable, UnmergeableSort
from atoll.listing.fields import Collection
from atoll.listing.marker import Marker, decode
from atoll.listing.pager import Page, Pager, PodAnswer, PodQuery
from atoll.listing.parsing import ListRequest, parse
from atoll.listing.refusals import is_marker_refusal
from tests.functional.conftest import keystone_token

pytestmark = pytest.mark.realpods

PODS = ["Pod1", "Pod2"]
NOVA = {"OpenStack-API-Version": "compute 2.96"}
CINDER = {"OpenStack-API-Version": "volume 3.71"}
IMAGE_NAMES = {
    "Pod1": ["alpha", "Alpha", "ALPHA ", "a\tb", "a b", "bêta", "ß", None, "zed"],
    "Pod2": ["alpha ", "ALPHA", "a  b", "beta", "Beta", "s", "ss", None, "Zed"],
}
VOLUME_NAMES = {"Pod1": ["vol", "Vol", "völ", "a", "b"], "Pod2": ["VOL", "vol", "A", "c", "B"]}
SERVER_NAMES = {"Pod1": ["web", "Web"], "Pod2": ["wéb", "db"]}


class Pods:
    """The pods' list APIs, as the gateway will call them."""

    def __init__(self, testbed: Any, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"X-Auth-Token": token}
        port = testbed.port
        self.base = {
            (pod, service): f"http://127.0.0.1:{port(pod, service)}{root}"
            for pod in PODS
            for service, root in (("nova", "/v2.1"), ("cinder", "/v3"), ("glance", "/v2"))
        }
        self.down: set[str] = set()

    def url(self, pod: str, service: str, path: str) -> str:
        if pod in self.down:
            return f"http://127.0.0.1:9/{path}"  # discard port: the connection is refused
        return f"{self.base[pod, service]}/{path}"

    def fetcher(self, collection: Collection, filters: tuple[tuple[str, str], ...] = ()) -> Any:
        service, path, headers = {
            "servers": ("nova", "servers/detail", NOVA),
            "volumes": ("cinder", "volumes/detail", CINDER),
            "images": ("glance", "images", {}),
        }[collection.name]

        async def fetch(pod: str, query: PodQuery) -> PodAnswer:
            try:
                response = await self.client.get(
                    self.url(pod, service, path), params=[*filters, *query.params()], headers=self.headers | headers
                )
            except httpx.TransportError as error:
                raise PodUnavailable(f"unreachable ({type(error).__name__})") from None
            if response.status_code >= 500:
                raise PodUnavailable(f"HTTP {response.status_code}")
            if query.marker and is_marker_refusal(
                collection.service, response.status_code, response.text, query.marker
            ):
                raise MarkerNotFound(query.marker)
            assert response.status_code == 200, response.text
            body = response.json()
            links = body.get(f"{collection.name}_links", [])
            more = "next" in body or any(link["rel"] == "next" for link in links)
            return PodAnswer(body[collection.name], more)

        return fetch

    async def everything(self, collection: Collection, request: ListRequest) -> list[tuple[str, dict[str, Any]]]:
        """Every item of every pod, each pod listed directly (its own paging), with its pod."""
        fetch = self.fetcher(collection, request.filters)
        found = []
        for pod in PODS:
            marker = None
            while True:
                answer = await fetch(pod, PodQuery(request.spec, 1000, marker))
                found += [(pod, item) for item in answer.items]
                if not answer.more or not answer.items:
                    break
                marker = answer.items[-1]["id"]
        return found


def expected_order(request: ListRequest, found: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, ...]]:
    """The union, items of equal key as one (the same image in every pod), sorted by the merge's comparison.

    First, the comparison must agree with each pod's own database: every pod's list is in its order.
    """
    key = request.spec.item_key()
    for pod in PODS:
        keys = [key(item) for where, item in found if where == pod]
        assert keys == sorted(keys), f"{pod} sorts {request.spec.keys} otherwise than atoll.listing.ordering"
    merged: dict[tuple[Any, ...], tuple[str, ...]] = {}
    items = {}
    for pod, item in found:
        k = key(item)
        merged[k] = (*merged.get(k, ()), pod)
        items[k] = item["id"]
    return [(items[k], *pods) for k, pods in sorted(merged.items())]


async def walk(pager: Pager, request: ListRequest, limit: int, marker: Marker | None = None) -> list[Page]:
    pages: list[Page] = []
    while len(pages) < 200:
        page = await pager.page(PODS, request.spec, limit, marker)
        pages.append(page)
        if page.next is None:
            return pages
        marker = decode(page.next.encode(), request.spec)
    raise AssertionError("the listing did not end")


def listed(pages: list[Page]) -> list[tuple[str, ...]]:
    return [(entry.item["id"], *entry.pods) for page in pages for entry in page.entries]


@pytest.fixture(scope="module")
def token(testbed: Any) -> str:
    return keystone_token(testbed.auth_url, {**testbed.demo, "auth_url": testbed.auth_url})


@pytest.fixture
async def pods(testbed: Any, token: str) -> AsyncIterator[Pods]:
    async with httpx.AsyncClient(timeout=60) as client:
        yield Pods(testbed, client, token)


def _sync(testbed: Any, token: str, method: str, pod: str, service: str, path: str, **kw: Any) -> httpx.Response:
    roots = {"nova": "/v2.1", "cinder": "/v3", "glance": "/v2"}
    url = f"http://127.0.0.1:{testbed.port(pod, service)}{roots[service]}/{path}"
    headers = {"X-Auth-Token": token, **(NOVA if service == "nova" else CINDER if service == "cinder" else {})}
    return httpx.request(method, url, headers=headers, timeout=120, **kw)


@pytest.fixture(scope="module")
def tag() -> str:
    return f"listing-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def images(testbed: Any, token: str, tag: str) -> Iterator[None]:
    made = []
    try:
        for pod, names in IMAGE_NAMES.items():
            for name in names:
                body = {"name": name, "disk_format": "raw", "container_format": "bare", "tags": [tag]}
                response = _sync(testbed, token, "POST", pod, "glance", "images", json=body)
                assert response.status_code == 201, response.text
                made.append((pod, response.json()["id"]))
        yield
    finally:
        for pod, image in made:
            _sync(testbed, token, "DELETE", pod, "glance", f"images/{image}")


@pytest.fixture(scope="module")
def volumes(testbed: Any, token: str) -> Iterator[dict[str, list[str]]]:
    made: dict[str, list[str]] = {pod: [] for pod in PODS}
    try:
        for pod, names in VOLUME_NAMES.items():
            for size, name in enumerate(names):
                body = {"volume": {"name": name, "size": 1 + size % 2}}
                response = _sync(testbed, token, "POST", pod, "cinder", "volumes", json=body)
                assert response.status_code == 202, response.text
                made[pod].append(response.json()["volume"]["id"])
        yield made
    finally:
        for pod, ids in made.items():
            for volume in ids:
                _settle(testbed, token, pod, "cinder", f"volumes/{volume}", "volume", ("creating",))
                _sync(testbed, token, "DELETE", pod, "cinder", f"volumes/{volume}")


@pytest.fixture(scope="module")
def servers(testbed: Any, token: str) -> Iterator[None]:
    made = []
    try:
        for pod, names in SERVER_NAMES.items():
            for name in names:
                body = {"server": {"name": name, "imageRef": testbed.image["id"], "flavorRef": "1", "networks": "none"}}
                response = _sync(testbed, token, "POST", pod, "nova", "servers", json=body)
                assert response.status_code == 202, response.text
                made.append((pod, response.json()["server"]["id"]))
        for pod, server in made:
            _settle(testbed, token, pod, "nova", f"servers/{server}", "server", ("BUILD",))
        yield
    finally:
        for pod, server in made:
            _sync(testbed, token, "DELETE", pod, "nova", f"servers/{server}")


def _settle(testbed: Any, token: str, pod: str, service: str, path: str, key: str, busy: tuple[str, ...]) -> None:
    """Poll until the resource leaves its transitional status (the only wait in this module)."""
    for _ in range(240):
        response = _sync(testbed, token, "GET", pod, service, path)
        if response.status_code != 200 or response.json()[key]["status"] not in busy:
            return
        time.sleep(0.5)
    raise AssertionError(f"{path} stayed {busy}")


IMAGE_SORTS = ["", "sort=name:asc", "sort_key=name&sort_dir=desc", "sort=status:asc,name:desc,size:asc", "sort=id:asc"]


@pytest.mark.usefixtures("images")
@pytest.mark.parametrize("query", IMAGE_SORTS)
async def test_images_of_both_pods_page_exactly_in_every_sort(pods: Pods, tag: str, query: str) -> None:
    request = parse(declared.IMAGES, [*httpx.QueryParams(query).multi_items(), ("tag", tag)], max_limit=1000)
    expected = expected_order(request, await pods.everything(declared.IMAGES, request))
    assert len(expected) == sum(len(names) for names in IMAGE_NAMES.values())
    pager = Pager(pods.fetcher(declared.IMAGES, request.filters), timeout=30)
    for limit in (1, 4, 25):
        pages = await walk(pager, request, limit)
        assert listed(pages) == expected
        assert all(len(page.entries) == limit for page in pages[:-1])


async def test_the_image_every_pod_has_is_listed_once_with_both_pods(pods: Pods, testbed: Any) -> None:
    # The copies differ in created_at (the test bed uploads to one pod, then the other) and Glance
    # always sorts on it: they collapse because they are next to each other with the same id.
    request = parse(declared.IMAGES, [("name", testbed.image["name"])], max_limit=1000)
    pages = await walk(Pager(pods.fetcher(declared.IMAGES, request.filters), timeout=30), request, 1)
    assert [(entry[0], sorted(entry[1:])) for entry in listed(pages)] == [(testbed.image["id"], ["Pod1", "Pod2"])]


VOLUME_SORTS = ["", "sort=name:asc", "sort=size:desc,name:asc", "sort_key=name&sort_dir=desc", "sort=status,size"]


@pytest.mark.usefixtures("volumes")
@pytest.mark.parametrize("query", VOLUME_SORTS)
async def test_volumes_of_both_pods_page_exactly_in_every_sort(pods: Pods, query: str) -> None:
    request = parse(declared.VOLUMES, httpx.QueryParams(query).multi_items(), max_limit=1000)
    expected = expected_order(request, await pods.everything(declared.VOLUMES, request))
    assert len(expected) >= sum(len(names) for names in VOLUME_NAMES.values())
    pager = Pager(pods.fetcher(declared.VOLUMES, request.filters), timeout=30)
    for limit in (1, 3, 7):
        assert listed(await walk(pager, request, limit)) == expected


async def test_volumes_continue_after_a_plain_id_marker_and_a_deleted_one(
    pods: Pods, volumes: dict[str, list[str]], testbed: Any, token: str
) -> None:
    request = parse(declared.VOLUMES, [("sort", "name:asc")], max_limit=1000)
    pager = Pager(pods.fetcher(declared.VOLUMES), timeout=30)
    expected = expected_order(request, await pods.everything(declared.VOLUMES, request))
    # openstack volume list --marker <id>: the gateway fetches that volume and starts right after it
    target = volumes["Pod2"][0]
    item = _sync(testbed, token, "GET", "Pod2", "cinder", f"volumes/{target}").json()["volume"]
    after = Marker.after_item(request.spec, item, {"Pod2": target})
    position = [row[0] for row in expected].index(target)
    assert listed(await walk(pager, request, 2, after)) == expected[position + 1 :]
    # the last volume a page took from Pod1 is deleted before the next page: Cinder answers 404 to it
    first = await pager.page(PODS, request.spec, 3)
    taken = [entry.item["id"] for entry in first.entries if entry.pod == "Pod1"]
    assert taken
    assert first.next is not None
    _settle(testbed, token, "Pod1", "cinder", f"volumes/{taken[-1]}", "volume", ("creating",))
    assert _sync(testbed, token, "DELETE", "Pod1", "cinder", f"volumes/{taken[-1]}").status_code == 202
    for _ in range(240):  # until Cinder no longer lists it
        if _sync(testbed, token, "GET", "Pod1", "cinder", f"volumes/{taken[-1]}").status_code == 404:
            break
        await asyncio.sleep(0.5)
    rest = await walk(pager, request, 3, first.next)
    assert listed(rest) == [row for row in expected[3:] if row[0] != taken[-1]]


@pytest.mark.usefixtures("volumes")
async def test_a_pod_that_cannot_be_reached_is_partial_and_loses_nothing(pods: Pods) -> None:
    request = parse(declared.VOLUMES, [], max_limit=1000)
    expected = expected_order(request, await pods.everything(declared.VOLUMES, request))
    pager = Pager(pods.fetcher(declared.VOLUMES), timeout=30)
    pods.down = {"Pod2"}
    first = await pager.page(PODS, request.spec, 3)
    assert set(first.partial) == {"Pod2"}
    assert first.partial["Pod2"].startswith("unreachable")
    assert [entry.pod for entry in first.entries] == ["Pod1"] * 3
    pods.down = set()
    rest = await walk(pager, request, 4, first.next)
    assert sorted(listed([first, *rest])) == sorted(expected)


@pytest.mark.usefixtures("volumes")
async def test_every_volume_sort_key_is_taken_by_cinder_or_refused_with_a_reason(pods: Pods) -> None:
    """As the demo user: Cinder shows no volume's host to a member, so sorting by it cannot be merged."""
    pager = Pager(pods.fetcher(declared.VOLUMES), timeout=30)
    for key in declared.VOLUMES.keys:
        request = parse(declared.VOLUMES, [("sort", f"{key}:asc")], max_limit=1000)
        try:
            await pager.page(PODS, request.spec, 5)
        except UnmergeableSort:
            assert key == "host"
        else:
            assert key != "host"


SERVER_SORTS = [
    "",
    "sort_key=display_name&sort_dir=asc",
    "sort_key=vm_state",
    "sort_key=vm_state&sort_key=display_name&sort_dir=desc",
    "sort_key=created_at&sort_dir=asc&sort_key=uuid&sort_dir=desc",
]


@pytest.mark.usefixtures("servers")
@pytest.mark.parametrize("query", SERVER_SORTS)
async def test_servers_of_both_pods_page_exactly_in_every_sort(pods: Pods, query: str) -> None:
    request = parse(declared.SERVERS, httpx.QueryParams(query).multi_items(), max_limit=1000, microversion=(2, 96))
    expected = expected_order(request, await pods.everything(declared.SERVERS, request))
    assert len(expected) >= sum(len(names) for names in SERVER_NAMES.values())
    pager = Pager(pods.fetcher(declared.SERVERS, request.filters), timeout=30)
    for limit in (1, 3):
        assert listed(await walk(pager, request, limit)) == expected
