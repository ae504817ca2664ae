"""Flavors through Atoll on the real test bed: made in every pod with one id and its extra specs,
and a pod that was stopped meanwhile gets them by a job once it is back (`/v1.0/jobs`), as it gets
volume types, keypairs and the metadata definitions catalog's namespaces."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from atoll.sync import metadefs

pytestmark = [pytest.mark.realpods]

REGION = "RegionOne"
WAIT = 240.0


def _flavor(atoll: Any, region: str, name: str) -> dict[str, Any] | None:
    shown = atoll.openstack("flavor", "show", name, cloud="testbed-admin", region=region, check=False)
    if shown.returncode != 0:
        return None
    return dict(atoll.openstack("flavor", "show", name, cloud="testbed-admin", region=region))


def _delete(atoll: Any, name: str) -> None:
    atoll.openstack("flavor", "delete", name, cloud="testbed-admin", region=REGION, json_output=False, check=False)


def test_a_flavor_is_in_every_pod_with_one_id_and_its_extra_specs(atoll: Any) -> None:
    name = f"fl-{uuid.uuid4().hex[:6]}"
    made = atoll.openstack(
        "flavor", "create", "--ram", "128", "--vcpus", "1", "--disk", "1", "--property", "hw:cpu_policy=shared",
        name, cloud="testbed-admin", region=REGION,
    )  # fmt: skip
    try:
        copies = {r: _flavor(atoll, r, name) for r in atoll.pod_regions}
        assert {c["id"] for c in copies.values() if c} == {made["id"]}
        assert all(c and c["properties"] == {"hw:cpu_policy": "shared"} for c in copies.values())
    finally:
        _delete(atoll, name)
    assert all(_flavor(atoll, r, name) is None for r in atoll.pod_regions)


def _succeeded(http: httpx.Client, job_type: str, resource: str) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        listed = http.get("/v1.0/jobs", params={"type": job_type}).json()["jobs"]
        mine = [j for j in listed if j["resource"]["resource"] == resource]
        if mine and all(j["status"] == "SUCCESS" for j in mine):
            return
        assert time.monotonic() < deadline, f"the catch-up job did not succeed: {mine}"
        time.sleep(2)


def _namespace(name: str) -> dict[str, Any]:
    return {
        "namespace": f"OS::Atoll::{name}",
        "display_name": name,
        "description": "made through Atoll while Pod2 was down",
        "visibility": "public",
        "protected": True,
        "properties": {"p": {"title": "P", "type": "string", "enum": ["x", "y"]}},
        "objects": [{"name": "o", "properties": {"q": {"title": "Q", "type": "integer"}}}],
        "tags": [{"name": "t2"}, {"name": "t1"}],
    }


def _pod_namespace(atoll: Any, region: str, namespace: str, token: str) -> dict[str, Any]:
    """The namespace as the pod's own Glance shows it, minus what each pod makes its own (times, links)."""
    url = f"http://127.0.0.1:{atoll.port(region, 'glance')}/v2/metadefs/namespaces/{namespace}"
    shown = httpx.get(url, headers={"X-Auth-Token": token}, timeout=30, trust_env=False)
    assert shown.status_code == 200, shown.text
    return metadefs.shape(shown.json())


def test_a_stopped_pod_gets_a_flavor_volume_type_keypair_and_metadefs_made_meanwhile_once_back(atoll: Any) -> None:
    name = f"fl-down-{uuid.uuid4().hex[:6]}"
    token = atoll.openstack("token", "issue", cloud="testbed-admin")["id"]
    url = atoll.info["atoll_url"]
    atoll.stop_pod("Pod2")
    try:
        with httpx.Client(base_url=url, timeout=60, trust_env=False, headers={"X-Auth-Token": token}) as http:
            deadline = time.monotonic() + WAIT
            while http.get("/v1.0/pods").json()["pods"] and any(
                p["region_name"] == "Pod2" and p["status"] != "down" for p in http.get("/v1.0/pods").json()["pods"]
            ):
                assert time.monotonic() < deadline, "Atoll did not notice Pod2 down"
                time.sleep(2)
            made = atoll.openstack(
                "flavor", "create", "--ram", "128", "--vcpus", "1", "--disk", "1", "--property", "a=b", name,
                cloud="testbed-admin", region=REGION,
            )  # fmt: skip
            atoll.openstack("volume", "type", "create", "--property", "c=d", name, cloud="testbed-admin", region=REGION)
            atoll.openstack("keypair", "create", name, cloud="testbed-admin", region=REGION, json_output=False)
            made_ns = http.post("/image/v2/metadefs/namespaces", json=_namespace(name))
            assert made_ns.status_code == 201, made_ns.text
    finally:
        atoll.start_pod("Pod2")
    try:
        with httpx.Client(base_url=url, timeout=60, trust_env=False, headers={"X-Auth-Token": token}) as http:
            _succeeded(http, "sync_flavor", made["id"])
            _succeeded(http, "sync_volume_type", name)
            _succeeded(http, "sync_keypair", name)
            _succeeded(http, "sync_metadef_namespace", f"OS::Atoll::{name}")
        copy = _flavor(atoll, "Pod2", name)
        assert copy is not None
        assert copy["id"] == made["id"]
        assert copy["properties"] == {"a": "b"}
        volume_type = atoll.openstack("volume", "type", "show", name, cloud="testbed-admin", region="Pod2")
        assert volume_type["properties"] == {"c": "d"}
        keys = {r: atoll.openstack("keypair", "show", name, cloud="testbed-admin", region=r) for r in ("Pod1", "Pod2")}
        assert keys["Pod1"]["fingerprint"] == keys["Pod2"]["fingerprint"]
        catalogs = {r: _pod_namespace(atoll, r, f"OS::Atoll::{name}", token) for r in ("Pod1", "Pod2")}
        assert catalogs["Pod2"] == catalogs["Pod1"]
        assert catalogs["Pod2"]["tags"] == [{"name": "t1"}, {"name": "t2"}]
        assert [o["name"] for o in catalogs["Pod2"]["objects"]] == ["o"]
    finally:
        with httpx.Client(base_url=url, timeout=60, trust_env=False, headers={"X-Auth-Token": token}) as http:
            path = f"/image/v2/metadefs/namespaces/OS::Atoll::{name}"
            http.put(path, json={"namespace": f"OS::Atoll::{name}", "protected": False, "visibility": "public"})
            http.delete(path)
        _delete(atoll, name)
        for kind in (("volume", "type"), ("keypair",)):
            atoll.openstack(*kind, "delete", name, cloud="testbed-admin", region=REGION, json_output=False, check=False)
