"""A server's flavor and keypair copied to its pod when that pod lacks them (`atoll.gateway.compute.global_copy`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from atoll.gateway.compute.global_copy import reference
from tests.conftest import MEMBER
from tests.unit.gateway.conftest import Bed, with_service_credentials

BASE = "/compute/v2.1"
BIG = {
    "id": "big",
    "name": "m1.big",
    "ram": 4096,
    "vcpus": 2,
    "disk": 20,
    "swap": 0,
    "OS-FLV-EXT-DATA:ephemeral": 0,
    "rxtx_factor": 1.0,
    "os-flavor-access:is_public": True,
    "description": "made straight in Pod1",
    "extra_specs": {"hw:cpu_policy": "shared"},
}


@pytest.fixture
async def sbed(bed: Bed) -> AsyncIterator[Bed]:
    async for served in with_service_credentials(bed):
        yield served


def _server(az: str, flavor: str) -> dict[str, object]:
    return {"server": {"name": "vm", "flavorRef": flavor, "availability_zone": az, "networks": "none"}}


async def test_a_flavor_only_one_pod_has_is_copied_to_the_pod_a_server_goes_to(sbed: Bed) -> None:
    sbed.pods["Pod1"].flavors["big"] = dict(BIG)
    made = await sbed.http.post(f"{BASE}/servers", json=_server("az2", "big"), headers=MEMBER)
    assert made.status_code == 202, made.text
    copy = sbed.pods["Pod2"].flavors["big"]
    assert {k: copy.get(k) for k in ("name", "ram", "vcpus", "disk", "description")} == {
        "name": "m1.big",
        "ram": 4096,
        "vcpus": 2,
        "disk": 20,
        "description": "made straight in Pod1",
    }
    assert copy["extra_specs"] == {"hw:cpu_policy": "shared"}
    assert sbed.pods["Pod2"].flavor_tokens == ["service"]  # with Atoll's credentials, not the member's
    again = await sbed.http.post(f"{BASE}/servers", json=_server("az2", "http://x/flavors/big"), headers=MEMBER)
    assert again.status_code == 202, again.text
    assert sbed.pods["Pod2"].flavor_tokens == ["service"]  # there now: not copied twice


async def test_a_resize_to_a_flavor_the_server_s_pod_lacks_copies_it_first(sbed: Bed) -> None:
    sbed.pods["Pod1"].flavors["big"] = dict(BIG)
    server = sbed.pods["Pod2"].add("vm")
    resized = await sbed.http.post(
        f"{BASE}/servers/{server['id']}/action", json={"resize": {"flavorRef": "big"}}, headers=MEMBER
    )
    assert resized.status_code == 202, resized.text
    assert "big" in sbed.pods["Pod2"].flavors
    assert sbed.pods["Pod2"].bodies[-1] == {"resize": {"flavorRef": "big"}}


async def test_a_flavor_no_pod_has_is_left_to_nova_s_own_400(sbed: Bed) -> None:
    refused = await sbed.http.post(f"{BASE}/servers", json=_server("az2", "nowhere"), headers=MEMBER)
    assert refused.status_code == 400
    assert "Flavor nowhere could not be found." in refused.json()["badRequest"]["message"]
    assert sbed.pods["Pod2"].flavor_tokens == []


async def test_without_service_credentials_the_missing_flavor_is_a_409_naming_where_it_is(bed: Bed) -> None:
    bed.pods["Pod1"].flavors["big"] = dict(BIG)
    refused = await bed.http.post(f"{BASE}/servers", json=_server("az2", "big"), headers=MEMBER)
    assert refused.status_code == 409
    message = refused.json()["conflictingRequest"]["message"]
    assert "not available in availability zone az2" in message
    assert "az1" in message
    assert "big" not in bed.pods["Pod2"].flavors


async def test_a_flavor_of_the_same_name_and_another_id_in_the_pod_is_not_replaced(sbed: Bed) -> None:
    sbed.pods["Pod1"].flavors["big"] = dict(BIG)
    sbed.pods["Pod2"].flavors["other"] = dict(BIG, id="other")
    refused = await sbed.http.post(f"{BASE}/servers", json=_server("az2", "big"), headers=MEMBER)
    assert refused.status_code == 409, refused.text
    assert "could not be copied to availability zone az2" in refused.json()["conflictingRequest"]["message"]
    assert set(sbed.pods["Pod2"].flavors) == {"1", "other"}


def test_the_flavor_ref_is_an_id_or_the_last_segment_of_a_url() -> None:
    assert reference({"flavorRef": "http://nova/v2.1/flavors/42/"}, "flavorRef") == "42"
    assert reference({"flavorRef": 7}, "flavorRef") == "7"
    assert reference({"key_name": "mine"}, "key_name") == "mine"
    assert [reference(v, "flavorRef") for v in ({}, {"flavorRef": ""}, {"flavorRef": True}, None)] == [None] * 4


KEY = {"name": "mine", "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMine", "type": "ssh"}


async def test_the_caller_s_keypair_only_one_pod_has_is_copied_with_the_server(sbed: Bed) -> None:
    sbed.pods["Pod1"].keypairs["mine"] = dict(KEY)
    body = _server("az2", "1")
    body["server"]["key_name"] = "mine"  # type: ignore[index]
    made = await sbed.http.post(f"{BASE}/servers", json=body, headers=MEMBER)
    assert made.status_code == 202, made.text
    copy = sbed.pods["Pod2"].keypairs["mine"]
    assert (copy["public_key"], copy["type"], copy["user_id"]) == (KEY["public_key"], "ssh", "user-a")
    assert sbed.pods["Pod2"].keypair_tokens == ["service"]


async def test_a_keypair_no_pod_has_is_left_to_nova_s_own_400(sbed: Bed) -> None:
    sbed.pods["Pod1"].keypairs["mine"] = dict(KEY)
    body = _server("az2", "1")
    body["server"]["key_name"] = "absent"  # type: ignore[index]
    refused = await sbed.http.post(f"{BASE}/servers", json=body, headers=MEMBER)
    assert refused.status_code == 400  # in no pod: Nova's own answer
    assert "Invalid key_name provided." in refused.json()["badRequest"]["message"]
    assert sbed.pods["Pod2"].keypair_tokens == []


async def test_a_rebuild_with_a_keypair_the_server_s_pod_lacks_copies_it_first(sbed: Bed) -> None:
    sbed.pods["Pod1"].keypairs["mine"] = dict(KEY)
    server = sbed.pods["Pod2"].add("vm")
    body = {"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "key_name": "mine"}}
    rebuilt = await sbed.http.post(f"{BASE}/servers/{server['id']}/action", json=body, headers=MEMBER)
    assert rebuilt.status_code == 202, rebuilt.text
    assert sbed.pods["Pod2"].keypairs["mine"]["public_key"] == KEY["public_key"]
    unset = {"rebuild": {"imageRef": "70a599e0-31e7-49b7-b260-868f441e862b", "key_name": None}}
    assert (
        await sbed.http.post(f"{BASE}/servers/{server['id']}/action", json=unset, headers=MEMBER)
    ).status_code == 202
    assert sbed.pods["Pod2"].keypair_tokens == ["service"]
