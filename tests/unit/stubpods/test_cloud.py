"""A stub cloud's behaviour: failures injected and healed, latency, tokens, tenant isolation,
seeded data, creates and deletes, image data, microversion ranges."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from stubpods import CloudConfig, Failure, FailureMode, PodConfig, StubCloud
from stubpods.config import VersionRange
from stubpods.identity import ALT, DEMO

from tests.unit.stubpods.conftest import Session, issue_token


async def test_a_down_pod_refuses_connections_cuts_open_ones_and_comes_back(cloud: StubCloud, demo: Session) -> None:
    url = demo.url("Pod2", "compute", "/servers")
    async with httpx.AsyncClient(headers={"X-Auth-Token": demo.token}, timeout=5) as keepalive:
        assert (await keepalive.get(url)).status_code == 200  # opens a connection that stays open
        await cloud.set_failure("Pod2", Failure(FailureMode.DOWN))
        with pytest.raises(httpx.TransportError):
            await keepalive.get(url)  # the open connection was cut
        with pytest.raises(httpx.ConnectError):
            await demo.http.get(url)  # and nothing accepts new ones
        assert (await demo.get("Pod1", "compute", "/servers")).status_code == 200  # other pods are untouched
        port = cloud.pods["Pod2"].port
        await cloud.set_failure("Pod2", None)
        assert cloud.pods["Pod2"].port == port
        assert (await keepalive.get(url)).status_code == 200


async def test_a_hanging_pod_never_answers_until_healed(cloud: StubCloud, demo: Session) -> None:
    await cloud.set_failure("Pod1", Failure(FailureMode.HANG, services=frozenset({"compute"})))
    with pytest.raises(httpx.ReadTimeout):
        await demo.http.get(demo.url("Pod1", "compute", "/servers"), headers={"X-Auth-Token": demo.token}, timeout=0.3)
    assert (await demo.get("Pod1", "volumev3", "/volumes")).status_code == 200  # only compute hangs
    await cloud.set_failure("Pod1", None)
    assert (await demo.get("Pod1", "compute", "/servers")).status_code == 200


@pytest.mark.parametrize(
    ("service", "status", "body"),
    [
        ("compute", 503, {"serviceUnavailable": {"code": 503, "message": "Injected failure of Pod1 (stubpods)."}}),
        ("compute", 500, {"computeFault": {"code": 500, "message": "Injected failure of Pod1 (stubpods)."}}),
        ("volumev3", 503, {"serviceUnavailable": {"code": 503, "message": "Injected failure of Pod1 (stubpods)."}}),
        (
            "network",
            503,
            {
                "NeutronError": {
                    "detail": "",
                    "message": "Injected failure of Pod1 (stubpods).",
                    "type": "HTTPServiceUnavailable",
                }
            },
        ),
    ],
)
async def test_an_erroring_pod_answers_with_the_services_own_body(
    cloud: StubCloud, demo: Session, service: str, status: int, body: object
) -> None:
    await cloud.set_failure("Pod1", Failure(FailureMode.ERROR, status))
    path = {"compute": "/servers", "volumev3": "/volumes", "network": "/v2.0/networks"}[service]
    response = await demo.get("Pod1", service, path)
    assert (response.status_code, response.json()) == (status, body)
    assert response.headers["x-openstack-request-id"].startswith("req-")
    assert (await demo.get("Pod2", service, path)).status_code == 200


def test_failures_parse_from_the_command_line_syntax() -> None:
    assert Failure.parse("down") == Failure(FailureMode.DOWN)
    assert Failure.parse("error:500@compute,image") == Failure(FailureMode.ERROR, 500, frozenset({"compute", "image"}))
    assert Failure.parse("hang@volume").hits("volume")
    assert not Failure.parse("hang@volume").hits("compute")
    assert Failure.parse("down@volume").hits("compute")  # a down pod's port is shared by all its services


async def test_latency_and_jitter_delay_every_pod_answer() -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    config = CloudConfig([PodConfig("Pod1", latency_ms=20, jitter_ms=5), PodConfig("Pod2")])
    async with StubCloud(config) as cloud, httpx.AsyncClient() as http:
        token = await issue_token(http, cloud.auth_url, "demo")
        for pod in cloud.pods.values():
            pod.sleep = fake_sleep
        session = Session(http, cloud, token)
        for _ in range(20):
            await session.get("Pod1", "compute", "/servers")
        await session.get("Pod2", "compute", "/servers")
        cloud.set_latency("Pod2", 7)
        await session.get("Pod2", "compute", "/servers")
    assert len(slept) == 21
    assert all(0.020 <= s < 0.025 for s in slept[:20])
    assert len(set(slept[:20])) > 1  # jitter varies
    assert slept[20] == pytest.approx(0.007)


async def test_tokens_are_required_except_for_version_documents(cloud: StubCloud, http: httpx.AsyncClient) -> None:
    endpoints = cloud.pods["Pod1"].endpoints()
    missing = await http.get(endpoints["compute"] + "/servers")
    forged = await http.get(endpoints["compute"] + "/servers", headers={"X-Auth-Token": "gAAAAABforged"})
    unknown_route = await http.get(endpoints["network"] + "/v2.0/nothing")
    assert [r.status_code for r in (missing, forged, unknown_route)] == [401, 401, 401]
    assert missing.json()["error"]["title"] == "Unauthorized"
    assert (await http.get(endpoints["compute"] + "/")).json()["version"]["version"] == "2.104"
    assert (await http.get(endpoints["network"] + "/")).json()["versions"][0]["id"] == "v2.0"


async def test_a_tenant_sees_only_its_own_resources(cloud: StubCloud, demo: Session, admin: Session) -> None:
    alt = Session(demo.http, cloud, await issue_token(demo.http, cloud.auth_url, "alt_demo"))
    demo_servers = (await demo.get("Pod1", "compute", "/servers/detail")).json()["servers"]
    alt_servers = (await alt.get("Pod1", "compute", "/servers/detail")).json()["servers"]
    assert {s["tenant_id"] for s in demo_servers} == {DEMO.id}
    assert {s["tenant_id"] for s in alt_servers} == {ALT.id}
    assert (await alt.get("Pod1", "compute", f"/servers/{demo_servers[0]['id']}")).status_code == 404
    demo_volume = (await demo.get("Pod1", "volumev3", "/volumes")).json()["volumes"][0]["id"]
    assert (await alt.get("Pod1", "volumev3", f"/volumes/{demo_volume}")).status_code == 404
    everyone = (await admin.get("Pod1", "compute", "/servers?all_tenants=1")).json()["servers"]
    assert {s["id"] for s in everyone} == {s["id"] for s in demo_servers + alt_servers}
    assert (await alt.get("Pod1", "compute", "/servers?all_tenants=1")).json()["servers"] == [
        {"id": s["id"], "links": s["links"], "name": s["name"]} for s in alt_servers
    ]


async def test_seeded_resources_are_distinct_and_interleaved_across_pods(cloud: StubCloud, demo: Session) -> None:
    servers = []
    for pod in ("Pod1", "Pod2"):
        servers += (await demo.get(pod, "compute", "/servers/detail")).json()["servers"]
    assert len(servers) == 6
    assert len({s["id"] for s in servers}) == len({s["name"] for s in servers}) == len({s["created"] for s in servers})
    newest_first = sorted(servers, key=lambda s: s["created"], reverse=True)
    pods_in_order = [s["name"].rsplit("-", 1)[1] for s in newest_first]
    assert pods_in_order == ["pod2", "pod1"] * 3  # a merged list alternates between the pods


async def test_seeded_ids_are_stable_for_a_seed() -> None:
    async def server_ids(seed: int) -> set[str]:
        config = CloudConfig.uniform(1, servers=2)
        config.seed = seed
        async with StubCloud(config) as cloud:
            return set(cloud.pods["Pod1"].state.servers)

    first, again, other = await server_ids(1), await server_ids(1), await server_ids(2)
    assert first == again
    assert first.isdisjoint(other)


async def test_a_write_makes_remembered_answers_stale(cloud: StubCloud, demo: Session) -> None:
    before = await demo.get("Pod1", "compute", "/servers")
    again = await demo.get("Pod1", "compute", "/servers")
    assert again.content == before.content  # the same bytes ...
    assert again.headers["x-openstack-request-id"] != before.headers["x-openstack-request-id"]  # ... fresh ids
    body = {"server": {"name": "new", "flavorRef": "1"}}
    created = (await demo.request("POST", "Pod1", "compute", "/servers", json=body)).json()["server"]["id"]
    after = (await demo.get("Pod1", "compute", "/servers")).json()["servers"]
    assert created in {s["id"] for s in after}
    cloud.pods["Pod1"].state.servers.clear()
    cloud.pods["Pod1"].state.changed()
    assert (await demo.get("Pod1", "compute", "/servers")).json()["servers"] == []


async def test_a_server_is_active_at_once_and_deleted(demo: Session) -> None:
    body = {"server": {"name": "web", "flavorRef": "1", "imageRef": "", "networks": "auto"}}
    created = await demo.request("POST", "Pod1", "compute", "/servers", json=body)
    assert created.status_code == 202
    server_id = created.json()["server"]["id"]
    assert created.headers["Location"] == demo.url("Pod1", "compute", f"/servers/{server_id}")
    shown = (await demo.get("Pod1", "compute", f"/servers/{server_id}")).json()["server"]
    assert (shown["status"], shown["name"], shown["tenant_id"]) == ("ACTIVE", "web", DEMO.id)
    assert (await demo.request("DELETE", "Pod1", "compute", f"/servers/{server_id}")).status_code == 204
    assert (await demo.get("Pod1", "compute", f"/servers/{server_id}")).status_code == 404


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"name": "x", "flavorRef": "1", "colour": "red"}, "Additional properties are not allowed ('colour' was"),
        ({"name": "x", "flavorRef": "42"}, "Flavor 42 could not be found."),
        ({"name": "", "flavorRef": "1"}, "Invalid input for field/attribute name."),
    ],
)
async def test_a_bad_server_create_is_refused_and_creates_nothing(
    demo: Session, server: dict[str, str], message: str
) -> None:
    before = (await demo.get("Pod1", "compute", "/servers")).json()["servers"]
    response = await demo.request("POST", "Pod1", "compute", "/servers", json={"server": server})
    assert response.status_code == 400
    assert message in response.json()["badRequest"]["message"]
    assert (await demo.get("Pod1", "compute", "/servers")).json()["servers"] == before


async def test_image_data_is_streamed_in_and_out_with_glance_checksums(demo: Session) -> None:
    image = {"name": "blob", "disk_format": "raw", "container_format": "bare"}
    created = (await demo.request("POST", "Pod1", "image", "/v2/images", json=image)).json()
    data = bytes(range(256)) * 4096 + b"tail"  # 1 MiB and a bit
    upload = await demo.request(
        "PUT", "Pod1", "image", created["file"], content=data, headers={"Content-Type": "application/octet-stream"}
    )
    assert upload.status_code == 204
    shown = (await demo.get("Pod1", "image", created["self"])).json()
    assert (shown["status"], shown["size"]) == ("active", len(data))
    assert shown["checksum"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    download = await demo.get("Pod1", "image", created["file"])
    assert download.content == data
    assert download.headers["Content-MD5"] == shown["checksum"]


async def test_seeded_image_data_matches_its_checksum(demo: Session) -> None:
    images = (await demo.get("Pod1", "image", "/v2/images?visibility=private")).json()["images"]
    assert len(images) == 2
    download = await demo.get("Pod1", "image", images[0]["file"])
    assert hashlib.md5(download.content, usedforsecurity=False).hexdigest() == images[0]["checksum"]
    assert len(download.content) == images[0]["size"]


@pytest.fixture
async def old_pod() -> AsyncIterator[StubCloud]:
    config = CloudConfig([PodConfig("Pod1", compute_versions=VersionRange("2.1", "2.60"))])
    async with StubCloud(config) as cloud:
        yield cloud


async def test_each_pod_has_its_own_microversion_range(old_pod: StubCloud, http: httpx.AsyncClient) -> None:
    session = Session(http, old_pod, await issue_token(http, old_pod.auth_url, "demo"))
    latest = await session.get("Pod1", "compute", "/servers", headers={"OpenStack-API-Version": "compute latest"})
    assert latest.headers["OpenStack-API-Version"] == "compute 2.60"
    assert latest.headers["X-OpenStack-Nova-API-Version"] == "2.60"
    too_new = await session.get("Pod1", "compute", "/servers", headers={"OpenStack-API-Version": "compute 2.61"})
    assert too_new.status_code == 406
    assert too_new.json()["computeFault"]["message"].endswith("Minimum is 2.1 and maximum is 2.60.")
    doc = (await http.get(old_pod.pods["Pod1"].endpoints()["compute"] + "/")).json()["version"]
    assert (doc["min_version"], doc["version"]) == ("2.1", "2.60")


async def test_an_admin_creates_an_image_for_another_project_and_a_member_cannot(demo: Session, admin: Session) -> None:
    image = {"name": "copy", "disk_format": "raw", "container_format": "bare", "owner": DEMO.id}
    made = await admin.request("POST", "Pod1", "image", "/v2/images", json=image)
    assert made.status_code == 201, made.text
    assert made.json()["owner"] == DEMO.id
    assert (await demo.get("Pod1", "image", made.json()["self"])).json()["owner"] == DEMO.id
    refused = await demo.request("POST", "Pod1", "image", "/v2/images", json={**image, "owner": ALT.id})
    assert refused.status_code == 403
    assert f"You are not permitted to create images owned by &#x27;{ALT.id}&#x27;." in refused.text  # webob's HTML
    own = await demo.request("POST", "Pod1", "image", "/v2/images", json=image)
    assert (own.status_code, own.json()["owner"]) == (201, DEMO.id)


async def test_images_filtered_by_any_of_several_ids_and_requests_counted(demo: Session) -> None:
    everything = (await demo.get("Pod1", "image", "/v2/images")).json()["images"]
    assert len(everything) == 3  # two private images and the public one every pod holds
    wanted = [everything[0]["id"], everything[2]["id"], "not-an-image"]
    before = demo.cloud.pods["Pod1"].requests
    listed = (await demo.get("Pod1", "image", "/v2/images?id=in:" + ",".join(wanted))).json()["images"]
    assert sorted(i["id"] for i in listed) == sorted(wanted[:2])
    assert demo.cloud.pods["Pod1"].requests == before + 1
    assert demo.cloud.describe()["pods"]["Pod1"]["requests"] == before + 1
