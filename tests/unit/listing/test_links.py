"""Next (and previous) links: the client's query with Atoll's marker, in each service's shape."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from atoll.listing.declared import IMAGES, NETWORKS, SERVERS, VOLUMES
from atoll.listing.links import href, links
from atoll.listing.marker import Marker, decode
from atoll.listing.merge import Entry
from atoll.listing.pager import Page
from atoll.listing.parsing import parse
from atoll.listing.spec import SortSpec

QUERY = [("name", "web"), ("limit", "2"), ("marker", "old"), ("sort_key", "display_name"), ("sort_key", "uuid")]


def query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


def server(uuid: str, name: str) -> dict[str, str]:
    return {"id": uuid, "name": name}


def test_nova_and_cinder_links_carry_the_query_with_atolls_marker() -> None:
    spec = parse(SERVERS, QUERY, max_limit=1000).spec
    following = Marker(spec.fingerprint(), ("web", "a"), {})
    page = Page([Entry("Pod1", server("a", "web"))], following, {})
    body = links(spec, "http://atoll/compute/v2.1/servers/detail", QUERY, page)
    [link] = body["servers_links"]
    assert link["rel"] == "next"
    assert link["href"].startswith("http://atoll/compute/v2.1/servers/detail?")
    params = query_of(link["href"])
    assert params[:4] == [("name", "web"), ("limit", "2"), ("sort_key", "display_name"), ("sort_key", "uuid")]
    assert params[4][0] == "marker"
    assert decode(params[4][1], spec) == following
    assert links(spec, "http://x", QUERY, Page([], None, {})) == {}
    volumes = parse(VOLUMES, [], max_limit=1000).spec
    assert list(links(volumes, "http://x", [], Page([], Marker.start(volumes), {}))) == ["volumes_links"]


def test_glance_has_first_always_and_next_when_there_is_more() -> None:
    spec = parse(IMAGES, [("limit", "1"), ("marker", "m")], max_limit=1000).spec
    done = links(spec, "/v2/images", [("limit", "1"), ("marker", "m")], Page([], None, {}))
    assert done == {"first": "/v2/images?limit=1"}
    more = links(spec, "/v2/images", [], Page([], Marker.start(spec), {}))
    assert more["first"] == "/v2/images"
    assert more["next"].startswith("/v2/images?marker=atoll1.")


def test_neutron_forward_page_links_next_and_previous_from_its_first_item() -> None:
    query = [("limit", "2"), ("sort_key", "name"), ("sort_dir", "asc")]
    spec = parse(NETWORKS, query, max_limit=1000).spec
    first = {"id": "n1", "name": "alpha"}
    page = Page([Entry("Pod1", first), Entry("Pod2", {"id": "n2", "name": "beta"})], Marker.start(spec), {})
    [following, previous] = links(spec, "http://atoll/v2.0/networks", query, page)["networks_links"]
    assert following["rel"] == "next"
    assert ("page_reverse", "True") not in query_of(following["href"])
    assert previous["rel"] == "previous"
    params = dict(query_of(previous["href"]))
    assert params["page_reverse"] == "True"
    backwards = SortSpec(spec.collection, spec.keys, reverse=True, order=spec.order)
    assert decode(params["marker"], backwards) == Marker.after_item(backwards, first, {"Pod1": "n1"})


def test_neutron_reversed_page_links_previous_only_when_there_is_more_behind() -> None:
    query = [("limit", "2"), ("page_reverse", "True")]
    spec = parse(NETWORKS, query, max_limit=1000).spec
    last = {"id": "n9", "name": "z"}
    page = Page([Entry("Pod1", {"id": "n8", "name": "y"}), Entry("Pod1", last, also=("Pod2",))], None, {})
    [following] = links(spec, "http://atoll/v2.0/networks", query, page)["networks_links"]
    assert following["rel"] == "next"
    params = dict(query_of(following["href"]))
    assert "page_reverse" not in params
    assert decode(params["marker"], spec.backwards()) == Marker.after_item(
        spec.backwards(), last, {"Pod1": "n9", "Pod2": "n9"}
    )


def test_an_empty_neutron_page_links_to_both_ends() -> None:
    spec = parse(NETWORKS, [], max_limit=1000).spec
    [previous] = links(spec, "http://n/networks", [], Page([], None, {}))["networks_links"]
    assert previous == {"rel": "previous", "href": "http://n/networks?page_reverse=True"}


def test_href_without_anything_is_the_base() -> None:
    assert href("http://atoll/servers", [("marker", "x")], None) == "http://atoll/servers"
