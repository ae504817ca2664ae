from __future__ import annotations

import re

from tests.conftest import MEMBER
from tests.unit.gateway.conftest import Bed

REQ = re.compile(r"^req-[0-9a-f-]{36}$")


async def test_compute_version_documents_are_public_and_point_at_atoll(bed: Bed) -> None:
    root = await bed.http.get("/compute/")
    assert root.status_code == 200
    v20, v21 = root.json()["versions"]  # Nova's order, which Tempest checks: the legacy v2.0 first
    assert (v20["id"], v20["status"], v20["version"]) == ("v2.0", "SUPPORTED", "")
    assert (v21["id"], v21["status"], v21["min_version"], v21["version"]) == ("v2.1", "CURRENT", "2.3", "2.96")
    assert v21["links"][0] == {"rel": "self", "href": "http://atoll.test/compute/v2.1/"}
    for path in ("/compute/v2.1", "/compute/v2.1/"):
        one = await bed.http.get(path)
        assert one.status_code == 200
        assert one.json()["version"]["links"][0]["href"] == "http://atoll.test/compute/v2.1/"
    assert REQ.match(root.headers["x-openstack-request-id"])
    assert root.headers["x-compute-request-id"] == root.headers["x-openstack-request-id"]
    legacy = await bed.http.get("/compute/v2/")  # Tempest follows every listed version's self link
    assert legacy.status_code == 200
    assert legacy.json()["version"]["id"] == "v2.0"


async def test_other_services_version_documents(bed: Bed) -> None:
    volume = await bed.http.get("/volume/")
    assert volume.status_code == 300
    assert volume.json()["versions"][0]["links"][1] == {"rel": "self", "href": "http://atoll.test/volume/v3/"}
    assert (await bed.http.get("/volume/v3/")).json()["versions"][0]["id"] == "v3.0"
    image = await bed.http.get("/image/")
    assert image.status_code == 300
    assert image.json()["versions"][0] == {
        "id": "v2.17",
        "status": "CURRENT",
        "links": [{"rel": "self", "href": "http://atoll.test/image/v2/"}],
    }
    assert (await bed.http.get("/image/versions")).status_code == 200
    network = await bed.http.get("/network/")
    assert network.json() == {
        "versions": [
            {"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": "http://atoll.test/network/v2.0/"}]}
        ]
    }


async def test_401_in_each_services_error_shape(bed: Bed) -> None:
    message = "The request you have made requires authentication."
    compute = await bed.http.get("/compute/v2.1/servers")
    assert (compute.status_code, compute.json()) == (401, {"unauthorized": {"code": 401, "message": message}})
    network = await bed.http.get("/network/v2.0/networks")
    assert network.json() == {"NeutronError": {"type": "HTTPUnauthorized", "message": message, "detail": ""}}
    image = await bed.http.get("/image/v2/images")
    assert image.json() == {"message": message, "code": "401 Unauthorized", "title": "Unauthorized"}
    volume = await bed.http.get("/volume/v3/volumes", headers={"X-Auth-Token": "bogus"})
    assert volume.json()["unauthorized"]["code"] == 401
    for response in (compute, network, image, volume):
        assert REQ.match(response.headers["x-openstack-request-id"])


async def test_unknown_paths_and_methods(bed: Bed) -> None:
    missing = await bed.http.get("/compute/v2.1/os-nothing", headers=MEMBER)
    assert missing.json() == {"itemNotFound": {"code": 404, "message": "The resource could not be found."}}
    outside = await bed.http.get("/compute/v3/servers", headers=MEMBER)
    assert outside.status_code == 404
    wrong = await bed.http.patch("/compute/v2.1/servers/abc", headers=MEMBER)
    assert wrong.json()["badMethod"]["code"] == 405
    neutron = await bed.http.get("/network/v2.0/networks", headers=MEMBER)
    assert neutron.status_code == 503
    assert "central_neutron_url" in neutron.json()["NeutronError"]["message"]
    assert neutron.headers["retry-after"] == "5"


async def test_microversions_negotiated_echoed_and_forwarded(bed: Bed) -> None:
    server = bed.pods["Pod1"].add("vm1")
    latest = await bed.http.get(
        f"/compute/v2.1/servers/{server['id']}", headers=MEMBER | {"OpenStack-API-Version": "compute latest"}
    )
    assert latest.status_code == 200
    assert latest.headers["openstack-api-version"] == "compute 2.96"
    assert latest.headers["x-openstack-nova-api-version"] == "2.96"
    seen = bed.pods["Pod1"].seen[-1]["headers"]
    assert seen["OpenStack-API-Version"] == "compute 2.96"
    assert seen["X-OpenStack-Nova-API-Version"] == "2.96"

    legacy = await bed.http.get(
        "/compute/v2.1/os-availability-zone", headers=MEMBER | {"X-OpenStack-Nova-API-Version": "2.37"}
    )
    assert legacy.headers["x-openstack-nova-api-version"] == "2.37"
    assert "OpenStack-API-Version" in legacy.headers["vary"]

    none = await bed.http.get("/compute/v2.1/os-availability-zone", headers=MEMBER)
    assert none.headers["openstack-api-version"] == "compute 2.1"

    too_new = await bed.http.get("/compute/v2.1/servers", headers=MEMBER | {"OpenStack-API-Version": "compute 2.97"})
    assert too_new.status_code == 406
    assert too_new.json()["computeFault"]["message"] == (
        "Version 2.97 is not supported by the API. Minimum is 2.3 and maximum is 2.96."
    )
    bad = await bed.http.get("/compute/v2.1/servers", headers=MEMBER | {"OpenStack-API-Version": "compute 2.x"})
    assert bad.json()["badRequest"]["message"].startswith("API Version String 2.x is of invalid format")


async def test_request_ids_forwarded_and_pod_urls_never_leak(bed: Bed) -> None:
    server = bed.pods["Pod1"].add("vm1")
    global_id = "req-11111111-2222-4333-8444-555555555555"
    shown = await bed.http.get(
        f"/compute/v2.1/servers/{server['id']}", headers=MEMBER | {"X-OpenStack-Request-ID": global_id}
    )
    assert bed.pods["Pod1"].seen[-1]["headers"]["X-OpenStack-Request-ID"] == global_id
    assert shown.headers["x-openstack-request-id"] != "req-00000000-0000-4000-8000-000000000000"
    assert REQ.match(shown.headers["x-compute-request-id"])
    links = shown.json()["server"]["links"]
    assert links == [
        {"rel": "self", "href": f"http://atoll.test/compute/v2.1/servers/{server['id']}"},
        {"rel": "bookmark", "href": f"http://atoll.test/compute/servers/{server['id']}"},
    ]
    assert bed.pods["Pod1"].url not in shown.text


async def test_public_url_overrides_the_request_host(bed: Bed) -> None:
    bed.parts.gateway.conf.set_override("public_url", "https://cloud.example:8443/", group="api")
    root = await bed.http.get("/compute/")
    assert root.json()["versions"][-1]["links"][0]["href"] == "https://cloud.example:8443/compute/v2.1/"
    bed.parts.gateway.conf.clear_override("public_url", group="api")


async def test_the_callers_project_id_may_lead_the_path(bed: Bed) -> None:
    server = bed.pods["Pod1"].add("vm1")
    shown = await bed.http.get(f"/compute/v2.1/project-a/servers/{server['id']}", headers=MEMBER)
    assert shown.json()["server"]["id"] == server["id"]
    assert bed.pods["Pod1"].seen[-1]["path"] == f"/v2.1/servers/{server['id']}"
    other = await bed.http.get(f"/compute/v2.1/project-b/servers/{server['id']}", headers=MEMBER)
    assert other.status_code == 404
