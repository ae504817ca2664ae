from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from atoll.listing import sizing
from atoll.types import ProjectId, ResourceType
from tests.conftest import ADMIN, MEMBER
from tests.unit.gateway.conftest import Bed
from tests.unit.pods.dbpods import set_pod


def _seed(bed: Bed) -> list[dict[str, Any]]:
    names = ["delta", "Alpha", "echo", "bravo", "charlie", "foxtrot", "golf"]
    made = []
    for i, name in enumerate(names):
        made.append(bed.pods["Pod1" if i % 3 else "Pod2"].add(name))
    return made


async def _walk(bed: Bed, query: str, limit: int) -> list[str]:
    names: list[str] = []
    url: str | None = f"/compute/v2.1/servers/detail?limit={limit}{query}"
    pages = 0
    while url is not None:
        response = await bed.http.get(url, headers=MEMBER)
        assert response.status_code == 200, response.text
        body = response.json()
        names += [s["name"] for s in body["servers"]]
        links = body.get("servers_links", [])
        url = links[0]["href"].removeprefix("http://atoll.test") if links else None
        pages += 1
        assert pages < 20
    return names


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50])
async def test_pages_across_pods_are_exactly_the_sorted_union(bed: Bed, limit: int) -> None:
    made = _seed(bed)
    newest_first = [s["name"] for s in sorted(made, key=lambda s: (s["created"], s["id"]), reverse=True)]
    assert await _walk(bed, "", limit) == newest_first
    by_name = sorted((s["name"] for s in made), key=str.lower)
    assert await _walk(bed, "&sort_key=display_name&sort_dir=asc", limit) == by_name
    assert await _walk(bed, "&sort_key=display_name&sort_dir=desc", limit) == by_name[::-1]


async def test_list_items_show_atoll_urls_and_azs(bed: Bed) -> None:
    _seed(bed)
    response = await bed.http.get("/compute/v2.1/servers/detail", headers=MEMBER)
    servers = response.json()["servers"]
    assert {s["OS-EXT-AZ:availability_zone"] for s in servers} == {"az1", "az2"}
    assert all(s["links"][0]["href"].startswith("http://atoll.test/compute/v2.1/servers/") for s in servers)
    assert "servers_links" not in response.json()
    for pod in bed.pods.values():
        assert pod.url not in response.text
        # Asked twice: the request as it came (would one pod's page do?), then for the merge.
        first, asked = [s for s in pod.seen if s["path"] == "/v2.1/servers/detail"]
        assert first["query"] == ""
        query = parse_qs(asked["query"])
        assert query["sort_key"] == ["created_at", "uuid"]
        assert query["sort_dir"] == ["desc", "asc"]  # Nova's own default: created_at desc, then uuid asc


async def test_plain_id_marker_continues_after_that_server(bed: Bed) -> None:
    made = _seed(bed)
    order = [s for s in sorted(made, key=lambda s: (s["created"], s["id"]), reverse=True)]
    after = order[2]["id"]
    response = await bed.http.get(f"/compute/v2.1/servers/detail?marker={after}&limit=2", headers=MEMBER)
    assert [s["name"] for s in response.json()["servers"]] == [order[3]["name"], order[4]["name"]]
    href = response.json()["servers_links"][0]["href"]
    rest = await bed.http.get(href.removeprefix("http://atoll.test"), headers=MEMBER)
    assert [s["name"] for s in rest.json()["servers"]] == [s["name"] for s in order[5:7]]
    assert parse_qs(urlsplit(href).query)["limit"] == ["2"]


async def test_the_brief_list_is_sorted_and_paged_like_the_detailed_one_and_shows_the_brief_shape(bed: Bed) -> None:
    """`openstack server stop NAME` finds the server with `GET /servers?name=NAME`: Nova's brief items carry
    no created_at, so Atoll merges the pods' detailed lists and cuts the items down."""
    made = _seed(bed)
    newest_first = [s["name"] for s in sorted(made, key=lambda s: (s["created"], s["id"]), reverse=True)]
    names: list[str] = []
    url: str | None = "/compute/v2.1/servers?limit=3"
    while url is not None:
        response = await bed.http.get(url, headers=MEMBER)
        assert response.status_code == 200, response.text
        servers = response.json()["servers"]
        assert all(set(server) == {"id", "name", "links"} for server in servers)
        names += [server["name"] for server in servers]
        links = response.json().get("servers_links", [])
        url = links[0]["href"].removeprefix("http://atoll.test") if links else None
        assert url is None or url.startswith("/compute/v2.1/servers?")
    assert names == newest_first


async def test_filters_are_forwarded_and_bad_input_is_400(bed: Bed) -> None:
    await bed.http.get("/compute/v2.1/servers?name=vm&status=ACTIVE&all_tenants=1", headers=MEMBER)
    for pod in bed.pods.values():
        query = parse_qs(next(s for s in pod.seen if s["path"] == "/v2.1/servers/detail")["query"])
        assert (query["name"], query["status"], query["all_tenants"]) == (["vm"], ["ACTIVE"], ["1"])
    for bad, message in [
        ("limit=x", "Invalid input for query parameters limit"),
        ("sort_dir=up&sort_key=display_name", "Unknown sort direction, must be 'desc' or 'asc'"),
        ("sort_key=availability_zone", "Cannot sort servers across pods by 'availability_zone'"),
        ("marker=atl1.!!!", "not found"),
        ("marker=no-such-server", "marker [no-such-server] not found"),
    ]:
        response = await bed.http.get(f"/compute/v2.1/servers?{bad}", headers=MEMBER)
        assert response.status_code == 400, bad
        assert message in response.json()["badRequest"]["message"]


async def test_a_pod_that_does_not_answer_gives_a_flagged_partial_list(bed: Bed) -> None:
    _seed(bed)
    bed.pods["Pod2"].hanging.add("/v2.1/servers/detail")
    response = await bed.http.get("/compute/v2.1/servers/detail", headers=MEMBER)
    assert response.status_code == 200
    assert response.headers["atoll-partial-pods"] == "Pod2"
    assert sorted(s["name"] for s in response.json()["servers"]) == ["Alpha", "charlie", "echo", "foxtrot"]


async def test_a_full_last_page_links_an_empty_one_as_nova_and_cinder_do(bed: Bed) -> None:
    """Tempest's pagination tests expect a next link after a full page even when it is the last."""
    made = _seed(bed)
    first = await bed.http.get(f"/compute/v2.1/servers/detail?limit={len(made)}", headers=MEMBER)
    assert len(first.json()["servers"]) == len(made)
    [link] = first.json()["servers_links"]
    last = await bed.http.get(link["href"].removeprefix("http://atoll.test"), headers=MEMBER)
    assert last.status_code == 200
    assert last.json() == {"servers": []}
    fewer = await bed.http.get(f"/compute/v2.1/servers/detail?limit={len(made) + 1}", headers=MEMBER)
    assert "servers_links" not in fewer.json()


@pytest.fixture
def shares(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every list asks each pod for a share of the page first, however few the pods."""
    monkeypatch.setattr(sizing, "FULL_BUDGET", 0)


async def test_a_pod_holding_the_newest_servers_is_asked_again_for_the_rest_of_the_page(bed: Bed, shares: None) -> None:
    older = [bed.pods["Pod2"].add(f"old-{i}") for i in range(3)]
    newer = [bed.pods["Pod1"].add(f"new-{i:02d}") for i in range(35)]
    response = await bed.http.get("/compute/v2.1/servers/detail?limit=30", headers=MEMBER)
    assert response.status_code == 200
    assert "atoll-partial-pods" not in response.headers
    assert [s["name"] for s in response.json()["servers"]] == [s["name"] for s in newer[::-1][:30]]
    asked = _merge_asks(bed, "Pod1")
    assert [(query["limit"], query.get("marker")) for query in asked] == [
        (["29"], None),  # a share of the page first (sizing.first_ask), then the rest from its 29th
        (["2"], [newer[::-1][28]["id"]]),
    ]
    rest = await _walk_from(bed, response.json()["servers_links"][0]["href"])
    assert rest == [s["name"] for s in newer[::-1][30:] + older[::-1]]


async def test_a_pod_failing_when_asked_again_is_partial_keeps_its_place_and_loses_nothing(
    bed: Bed, shares: None
) -> None:
    older = [bed.pods["Pod2"].add(f"old-{i}") for i in range(3)]
    newer = [bed.pods["Pod1"].add(f"new-{i:02d}") for i in range(35)]
    bed.pods["Pod1"].failing = lambda request: 503 if "marker" in request.query else None
    response = await bed.http.get("/compute/v2.1/servers/detail?limit=30", headers=MEMBER)
    assert response.status_code == 200
    assert response.headers["atoll-partial-pods"] == "Pod1"
    assert [s["name"] for s in response.json()["servers"]] == [s["name"] for s in older[::-1]]
    bed.pods["Pod1"].failing = lambda request: None
    rest = await _walk_from(bed, response.json()["servers_links"][0]["href"])
    assert rest == [s["name"] for s in newer[::-1]]


async def test_the_pods_the_routings_say_hold_the_project_s_servers_are_asked_for_the_whole_page(
    bed: Bed, shares: None
) -> None:
    older = [bed.pods["Pod2"].add(f"old-{i}") for i in range(3)]
    newer = [bed.pods["Pod1"].add(f"new-{i:02d}") for i in range(35)]
    routings = bed.parts.gateway.routings
    await routings.adopt(newer[0]["id"], newer[0]["id"], bed.ids["Pod1"], ProjectId("project-a"), ResourceType.SERVER)
    response = await bed.http.get("/compute/v2.1/servers/detail?limit=30", headers=MEMBER)
    assert [s["name"] for s in response.json()["servers"]] == [s["name"] for s in newer[::-1][:30]]
    asked = _merge_asks(bed, "Pod1")
    assert [(query["limit"], query.get("marker")) for query in asked] == [(["31"], None)]  # at once, no second trip
    assert [query["limit"] for query in _merge_asks(bed, "Pod2")] == [["29"]]
    admin = await bed.http.get("/compute/v2.1/servers/detail?limit=30&all_tenants=1", headers=ADMIN)
    assert admin.status_code == 200
    every = [parse_qs(seen["query"]) for seen in bed.pods["Pod1"].seen if "all_tenants" in seen["query"]]
    assert every[0]["limit"] == ["29"]  # every project's list: a share for every pod first
    assert len(older) == 3


def _merge_asks(bed: Bed, pod: str) -> list[dict[str, list[str]]]:
    """The detailed lists a pod was asked for a merge (sorted as the merge sorts), not for a first
    page as the request came (`MergedList._one_pods_list`)."""
    seen = bed.pods[pod].seen
    return [parse_qs(s["query"]) for s in seen if s["path"] == "/v2.1/servers/detail" and "sort_key" in s["query"]]


async def _walk_from(bed: Bed, href: str) -> list[str]:
    names: list[str] = []
    url: str | None = href.removeprefix("http://atoll.test")
    while url is not None:
        response = await bed.http.get(url, headers=MEMBER)
        assert response.status_code == 200, response.text
        assert "atoll-partial-pods" not in response.headers
        names += [s["name"] for s in response.json()["servers"]]
        links = response.json().get("servers_links", [])
        url = links[0]["href"].removeprefix("http://atoll.test") if links else None
    return names


def _asked(bed: Bed, path: str) -> int:
    return sum(1 for pod in bed.pods.values() for seen in pod.seen if seen["path"] == path)


async def test_a_brief_list_with_one_pods_servers_is_that_pods_brief_list(bed: Bed) -> None:
    """Nova's detailed list costs it several times the brief one: while only one pod lists anything,
    `GET /servers` is answered from the pods' brief lists, and its next link continues it."""
    nothing = await bed.http.get("/compute/v2.1/servers", headers=MEMBER)
    assert (nothing.status_code, nothing.json()) == (200, {"servers": []})
    assert (_asked(bed, "/v2.1/servers"), _asked(bed, "/v2.1/servers/detail")) == (2, 0)
    made = [bed.pods["Pod2"].add(name) for name in ("one", "two", "three")]
    newest_first = [s["name"] for s in sorted(made, key=lambda s: (s["created"], s["id"]), reverse=True)]
    first = await bed.http.get("/compute/v2.1/servers?limit=2", headers=MEMBER)
    assert [s["name"] for s in first.json()["servers"]] == newest_first[:2]
    assert (_asked(bed, "/v2.1/servers"), _asked(bed, "/v2.1/servers/detail")) == (4, 0)
    [link] = first.json()["servers_links"]
    assert link["href"].startswith("http://atoll.test/compute/v2.1/servers?")
    assert bed.pods["Pod2"].url not in first.text
    rest = await bed.http.get(link["href"].removeprefix("http://atoll.test"), headers=MEMBER)
    assert [s["name"] for s in rest.json()["servers"]] == newest_first[2:]


async def test_a_detailed_list_with_one_pods_servers_is_that_pods_page_with_atoll_s_urls_and_azs(bed: Bed) -> None:
    """The common case, a project's servers in the pod it is bound to: the pod's own page is relayed
    (its URLs and AZ names made Atoll's), not parsed, merged and written again."""
    made = [bed.pods["Pod2"].add(name) for name in ("one", "two", "three")]
    newest_first = [s["name"] for s in sorted(made, key=lambda s: (s["created"], s["id"]), reverse=True)]
    first = await bed.http.get("/compute/v2.1/servers/detail?limit=2", headers=MEMBER)
    assert first.status_code == 200, first.text
    servers = first.json()["servers"]
    assert [s["name"] for s in servers] == newest_first[:2]
    assert {s["OS-EXT-AZ:availability_zone"] for s in servers} == {"az2"}  # Pod2's own AZ is zone-b
    assert all(s["links"][0]["href"].startswith("http://atoll.test/compute/v2.1/servers/") for s in servers)
    assert bed.pods["Pod2"].url not in first.text
    assert [len(_merge_asks(bed, name)) for name in ("Pod1", "Pod2")] == [0, 0]
    assert _asked(bed, "/v2.1/servers/detail") == 2
    [link] = first.json()["servers_links"]
    rest = await bed.http.get(link["href"].removeprefix("http://atoll.test"), headers=MEMBER)
    assert [s["name"] for s in rest.json()["servers"]] == newest_first[2:]
    assert {s["OS-EXT-AZ:availability_zone"] for s in rest.json()["servers"]} == {"az2"}


async def test_a_first_page_asks_the_pods_for_no_more_than_atoll_s_max_limit(bed: Bed) -> None:
    bed.parts.gateway.conf.set_override("max_limit", 2, group="api")
    bed.pods["Pod1"].add("one")
    listed = await bed.http.get("/compute/v2.1/servers/detail?limit=5&name=o", headers=MEMBER)
    assert [s["name"] for s in listed.json()["servers"]] == ["one"]
    asked = [parse_qs(s["query"]) for p in bed.pods.values() for s in p.seen if s["path"] == "/v2.1/servers/detail"]
    assert [(query["limit"], query["name"]) for query in asked] == [(["2"], ["o"])] * 2


async def test_a_project_found_in_two_pods_is_merged_at_once_on_its_next_lists(bed: Bed) -> None:
    """Servers made straight in two pods have no routings to say so: the first page finds out (the
    pods are asked twice), and the project's next lists are merged at once (asked once)."""
    made = _seed(bed)
    newest_first = [s["name"] for s in sorted(made, key=lambda s: (s["created"], s["id"]), reverse=True)]
    for expected_asks in (4, 6):
        listed = await bed.http.get("/compute/v2.1/servers/detail", headers=MEMBER)
        assert [s["name"] for s in listed.json()["servers"]] == newest_first
        assert _asked(bed, "/v2.1/servers/detail") == expected_asks


async def test_a_pod_that_fails_a_first_page_is_left_out_without_being_asked_again(bed: Bed) -> None:
    made = [bed.pods["Pod1"].add(name) for name in ("one", "two")]
    bed.pods["Pod2"].add("elsewhere")
    bed.pods["Pod2"].failing = lambda request: 503 if request.path.startswith("/v2.1/servers") else None
    listed = await bed.http.get("/compute/v2.1/servers/detail", headers=MEMBER)
    assert listed.status_code == 200
    assert sorted(s["name"] for s in listed.json()["servers"]) == sorted(s["name"] for s in made)
    assert listed.headers["Atoll-Partial-Pods"] == "Pod2"
    assert [len([s for s in pod.seen if s["path"] == "/v2.1/servers/detail"]) for pod in bed.pods.values()] == [2, 1]


async def test_a_brief_list_with_servers_in_two_pods_is_merged_from_the_detailed_lists(bed: Bed) -> None:
    made = _seed(bed)
    newest_first = [s["name"] for s in sorted(made, key=lambda s: (s["created"], s["id"]), reverse=True)]
    listed = await bed.http.get("/compute/v2.1/servers", headers=MEMBER)
    assert [s["name"] for s in listed.json()["servers"]] == newest_first
    assert _asked(bed, "/v2.1/servers/detail") == 2


async def test_a_brief_list_is_merged_at_once_when_the_routings_place_servers_in_two_pods(bed: Bed) -> None:
    for name, pod in bed.ids.items():
        server = f"routed-{name}"
        await bed.parts.gateway.routings.adopt(server, server, pod, ProjectId("project-a"), ResourceType.SERVER)
    bed.pods["Pod1"].add("here")
    listed = await bed.http.get("/compute/v2.1/servers", headers=MEMBER)
    assert [s["name"] for s in listed.json()["servers"]] == ["here"]
    assert (_asked(bed, "/v2.1/servers"), _asked(bed, "/v2.1/servers/detail")) == (0, 2)


async def test_a_pod_that_does_not_answer_a_brief_list_gets_the_merged_lists_partial_answer(bed: Bed) -> None:
    bed.pods["Pod1"].add("here")
    bed.pods["Pod2"].failing = lambda request: 503 if request.path.startswith("/v2.1/servers") else None
    listed = await bed.http.get("/compute/v2.1/servers", headers=MEMBER)
    assert [s["name"] for s in listed.json()["servers"]] == ["here"]
    assert listed.headers["Atoll-Partial-Pods"] == "Pod2"


async def test_a_list_of_a_service_no_pod_has_is_empty(bed: Bed) -> None:
    async with bed.sessions.begin() as session:
        for name, pod_id in bed.ids.items():
            await set_pod(session, pod_id, endpoints={"compute": bed.pods[name].url + "/v2.1"})
    bed.parts.gateway.registry.invalidate()
    for path in ("/volumes", "/volumes/detail", "/snapshots/detail"):
        listed = await bed.http.get(f"/volume/v3{path}", headers=MEMBER)
        assert (listed.status_code, listed.json()) == (200, {path.split("/")[1]: []}), listed.text
