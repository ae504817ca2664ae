"""The stubs answer the real services' requests (recorded from the test bed) with the same status,
headers and body shape; their error bodies are the same word for word.

The stub pod is seeded with the population the real pod had when the answers were recorded (same
ids, names, times), then every recorded request is replayed in the order it was made.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from stubpods import CloudConfig, StubCloud
from stubpods.identity import DEMO
from stubpods.recorded import PLACEHOLDERS, load, recorded_demo, rewrite, seed, to_stub_ids
from stubpods.recorder import KEPT_HEADERS

from tests.unit.stubpods.conftest import issue_token

OPAQUE = {"addresses", "metadata", "extra_specs", "properties", "inventories", "usages", "scheduler_hints"}
"""Mappings whose keys are data, not schema."""
EXACT_HEADERS = {
    "content-type",
    "openstack-api-version",
    "x-openstack-nova-api-version",
    "vary",
    "location",
    "content-md5",
    "content-length",
    "openstack-image-import-methods",
    "openstack-image-store-ids",
}


def shape(value: Any, key: str | None = None) -> Any:
    """The JSON types of `value`, keys of objects included; a list by its first item."""
    if key in OPAQUE and isinstance(value, dict):
        return "mapping"
    if isinstance(value, dict):
        return {k: shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0], key)] if value else []
    return type(value).__name__


def paths(value: Any, prefix: str = "") -> set[str]:
    """Every `a.b[].c: type` of a shape, to name what differs."""
    if isinstance(value, dict):
        return set().union(*(paths(v, f"{prefix}.{k}") for k, v in value.items())) if value else {prefix + ": {}"}
    if isinstance(value, list):
        return paths(value[0], prefix + "[]") if value else {prefix + ": []"}
    return {f"{prefix}: {value}"}


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def differences(name: str, recorded: dict[str, Any], response: httpx.Response, roots: dict[str, str]) -> list[str]:
    found = []
    if response.status_code != recorded["status"]:
        found.append(f"{name}: status {response.status_code} != {recorded['status']} ({response.text[:300]})")
        return found
    kept = (*KEPT_HEADERS, "content-length") if "content-length" in recorded["headers"] else KEPT_HEADERS
    headers = {k.lower(): v for k, v in response.headers.items() if k.lower() in kept}
    want = rewrite(recorded["headers"], roots)
    if set(headers) != set(want):
        found.append(f"{name}: headers {sorted(headers)} != {sorted(want)}")
    for header in EXACT_HEADERS & set(want) & set(headers):
        if UUID.sub("<uuid>", headers[header]) != UUID.sub("<uuid>", want[header]):
            found.append(f"{name}: {header} {headers[header]!r} != {want[header]!r}")
    expected = recorded["body"]
    if expected is None or "length" in expected:
        return found
    body: dict[str, Any] = (
        response.json() if "json" in response.headers.get("content-type", "") else {"text": response.text}
    )
    expected = rewrite(expected, roots)
    if recorded["status"] >= 400:
        for error in body.get("errors", []):
            error.pop("request_id")  # placement's: differs by nature
        for error in expected.get("errors", []):
            error.pop("request_id")
        if body != expected:
            found.append(f"{name}: error body {body} != {expected}")
    elif shape(body) != shape(expected):
        stub, real = paths(shape(body)), paths(shape(expected))
        found.append(f"{name}: only in the stub {sorted(stub - real)}, only in the real one {sorted(real - stub)}")
    return found


class Replay:
    def __init__(self, http: httpx.AsyncClient, cloud: StubCloud, tokens: dict[str, str]) -> None:
        self.http = http
        self.cloud = cloud
        self.tokens = tokens
        pod = cloud.pods["Pod1"]
        self.roots = {"{" + name + "}": f"{pod.base_url}/{prefix}" for name, prefix in PLACEHOLDERS.items()}
        self.roots.update(to_stub_ids())
        self.problems: list[str] = []

    async def __call__(self, service: str, name: str, *, who: str = "demo", token: str | None = None) -> httpx.Response:
        recorded = load(service)[name]
        request = rewrite(recorded["request"], self.roots)
        headers = dict(request["headers"])
        had_token = name not in (
            "versions",
            "version_v21",
            "version_v21_noslash",
            "version_v3",
            "version_v20",
            "root",
            "no_token",
        )
        if token is not None:
            headers["X-Auth-Token"] = token
        elif had_token:
            headers["X-Auth-Token"] = self.tokens[who]
        content = None
        if name == "upload":
            content = (b"img-b\n") * 100
        elif name == "upload_wrong_type":
            content = b"x"
        response = await self.http.request(
            request["method"], request["url"], json=request["body"], headers=headers, content=content
        )
        self.problems += differences(f"{service}/{name}", recorded, response, self.roots)
        return response


@pytest.fixture
async def replay() -> AsyncIterator[Replay]:
    async with StubCloud(CloudConfig.uniform(1)) as cloud, httpx.AsyncClient(timeout=10) as http:
        tokens = {who: await issue_token(http, cloud.auth_url, who) for who in ("demo", "admin")}
        yield Replay(http, cloud, tokens)


def population(service: str) -> list[dict[str, Any]]:
    populations: list[dict[str, Any]] = load(f"{service}-paging")["population"]
    return populations


async def test_nova(replay: Replay) -> None:
    state = replay.cloud.pods["Pod1"].state
    for name in (
        "versions",
        "version_v21",
        "version_v21_noslash",
        "no_token",
        "unknown_route",
        "unknown_server",
        "microversion_too_high",
        "servers_empty",
    ):
        await replay("nova", name)
    await replay("nova", "bad_token", token="gAAAAAnot-a-token")
    state.images.clear()
    seed(state, "glance", population("glance"))
    seed(state, "nova", population("nova"))
    for name in (
        "create",
        "show",
        "show_latest",
        "show_legacy_header",
        "list",
        "detail",
        "detail_latest",
        "bad_marker",
        "bad_sort_key",
    ):
        await replay("nova", name)
    for name in (
        "flavor_create",
        "flavor_show",
        "flavor_show_latest",
        "flavor_list",
        "flavor_detail",
        "flavor_create_duplicate",
        "extra_specs_create",
        "extra_specs_list",
        "extra_spec_show",
        "extra_spec_update",
        "extra_spec_delete",
        "extra_spec_missing",
        "access_add",
        "access_list",
        "access_add_again",
        "access_remove",
        "access_remove_again",
        "flavor_delete",
        "flavor_unknown",
    ):
        await replay("nova", name, who="admin")
    await replay("nova", "flavor_create_member", token=replay.tokens["demo"])
    for name in (
        "keypair_create",
        "keypair_create_latest",
        "keypair_show",
        "keypair_list",
        "keypair_list_latest",
        "keypair_duplicate",
        "keypair_delete",
        "keypair_unknown",
        "availability_zones",
        "limits",
        "delete",
    ):
        await replay("nova", name)
    assert not replay.problems, "\n".join(replay.problems)


async def test_cinder(replay: Replay) -> None:
    state = replay.cloud.pods["Pod1"].state
    recorded_type = load("cinder")["types"]["body"]["volume_types"][0]
    state.volume_types.clear()
    state.volume_types[recorded_type["id"]] = dict(recorded_type)
    state.changed()
    for name in (
        "versions",
        "version_v3",
        "no_token",
        "unknown_route",
        "unknown_volume",
        "volumes_empty",
        "microversion_too_high",
    ):
        await replay("cinder", name)
    seed(state, "cinder", population("cinder"))
    for name in (
        "create",
        "show",
        "show_latest",
        "list",
        "detail",
        "bad_marker",
        "bad_sort_key",
        "types",
        "type_show",
        "delete",
    ):
        await replay("cinder", name)
    assert not replay.problems, "\n".join(replay.problems)


async def test_glance(replay: Replay) -> None:
    state = replay.cloud.pods["Pod1"].state
    for name in ("root", "versions", "no_token", "unknown_route", "unknown_image"):
        await replay("glance", name)
    state.images.clear()
    created = load("glance")["create"]["request"]["body"]["id"]
    seed(state, "glance", [i for i in population("glance") if i["id"] != created])
    for name in (
        "create",
        "upload",
        "upload_wrong_type",
        "show",
        "download",
        "list",
        "bad_marker",
        "bad_sort_key",
        "delete",
    ):
        await replay("glance", name)
    assert not replay.problems, "\n".join(replay.problems)


async def test_glance_download_of_an_image_without_data(replay: Replay) -> None:
    recorded = load("glance")["download_queued"]
    image_id = recorded["request"]["url"].rsplit("/", 2)[-2]
    state = replay.cloud.pods["Pod1"].state
    state.images[image_id] = {**next(iter(state.images.values())), "id": image_id, "status": "queued", "owner": DEMO.id}
    state.changed()
    await replay("glance", "download_queued")
    assert not replay.problems, "\n".join(replay.problems)


async def test_neutron(replay: Replay) -> None:
    state = replay.cloud.pods["Pod1"].state
    for name in ("versions", "version_v20", "no_token", "unknown_route", "unknown_network"):
        await replay("neutron", name)
    created = load("neutron")["network_create"]["body"]["network"]["id"]
    seed(state, "neutron", [n for n in population("neutron") if n["id"] != created])
    response = await replay("neutron", "network_create")
    # the real network of the recording, so the recorded requests that name it find it
    state.networks[created] = state.networks.pop(response.json()["network"]["id"])
    state.networks[created]["id"] = created
    state.changed()
    for name in (
        "network_show",
        "networks",
        "bad_marker",
        "port_create",
        "ports",
        "security_groups",
        "security_group_create",
    ):
        await replay("neutron", name)
    assert not replay.problems, "\n".join(replay.problems)


async def test_placement(replay: Replay) -> None:
    state = replay.cloud.pods["Pod1"].state
    recorded = load("placement")["resource_provider"]["body"]
    provider = state.providers.pop(next(iter(state.providers)))
    provider.update(uuid=recorded["uuid"], root_provider_uuid=recorded["uuid"], name=recorded["name"], generation=6)
    state.providers[recorded["uuid"]] = provider
    state.changed()
    for name in (
        "root",
        "no_token",
        "unknown_route",
        "resource_providers",
        "resource_providers_latest",
        "resource_provider",
        "inventories",
        "usages",
        "unknown_provider",
    ):
        await replay("placement", name, who="admin")
    assert not replay.problems, "\n".join(replay.problems)


def test_recorded_ids_are_mapped_to_the_stub_users() -> None:
    project, user = recorded_demo()
    assert to_stub_ids() == {project: DEMO.id, user: to_stub_ids()[user]}
    assert project != DEMO.id
