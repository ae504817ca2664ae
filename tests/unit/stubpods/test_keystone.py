"""The stub Keystone is enough for real clients: keystoneauth1 gets tokens and endpoints from it, and
Atoll's own token validation, catalog discovery and health probe run unchanged against the stub cloud."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio.to_thread
import httpx
import pytest
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from stubpods import Failure, FailureMode, StubCloud
from stubpods.identity import DEMO, USERS
from stubpods.recorded import load

from atoll.core.errors import Unauthorized
from atoll.openstack.catalog import CatalogReader
from atoll.openstack.keystone import KeystoneTokenValidator
from atoll.openstack.session import SessionTokens
from atoll.pods.health import probe
from atoll.types import PodStatus
from tests.unit.stubpods.conftest import issue_token
from tests.unit.stubpods.test_fidelity import shape

POD_TYPES = {"compute", "volumev3", "block-storage", "image", "network", "placement", "identity"}


def password_session(cloud: StubCloud, user: str) -> ks_session.Session:
    creds = USERS[user].credentials()
    auth = v3.Password(
        auth_url=cloud.auth_url,
        username=creds["username"],
        password=creds["password"],
        project_name=creds["project_name"],
        user_domain_id="default",
        project_domain_id="default",
    )
    return ks_session.Session(auth=auth)


async def test_a_token_has_keystones_shape_and_every_pod_in_its_catalog(
    cloud: StubCloud, http: httpx.AsyncClient
) -> None:
    token = await issue_token(http, cloud.auth_url, "demo")
    admin = await issue_token(http, cloud.auth_url, "admin")
    response = await http.get(
        cloud.auth_url + "/auth/tokens", headers={"X-Auth-Token": admin, "X-Subject-Token": token}
    )
    assert response.status_code == 200
    body = response.json()
    real = load("keystone")["validate"]["body"]
    assert shape({k: v for k, v in body["token"].items() if k != "catalog"}) == shape(
        {k: v for k, v in real["token"].items() if k != "catalog"}
    )
    assert shape(body["token"]["catalog"][0]) == shape(real["token"]["catalog"][0])
    regions: dict[str, set[str]] = {}
    for service in body["token"]["catalog"]:
        for endpoint in service["endpoints"]:
            regions.setdefault(endpoint["region_id"], set()).add(service["type"])
            assert "%(project_id)s" not in endpoint["url"]
    assert regions == {"RegionOne": {"identity"}, "Pod1": POD_TYPES, "Pod2": POD_TYPES}
    assert body["token"]["project"]["id"] == DEMO.id


async def test_a_wrong_password_or_an_unknown_token_is_refused(cloud: StubCloud, http: httpx.AsyncClient) -> None:
    bad = {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "password": "x"}}}}}
    refused = await http.post(cloud.auth_url + "/auth/tokens", json=bad)
    assert (refused.status_code, refused.json()) == (401, load("keystone")["issue_bad_password"]["body"])
    admin = await issue_token(http, cloud.auth_url, "admin")
    unknown = await http.get(
        cloud.auth_url + "/auth/tokens", headers={"X-Auth-Token": admin, "X-Subject-Token": "gAAAAABnope"}
    )
    assert unknown.status_code == 404
    anonymous = await http.get(cloud.auth_url + "/auth/tokens", headers={"X-Subject-Token": admin})
    assert anonymous.status_code == 401


async def test_keystoneauth_finds_each_pods_endpoints(cloud: StubCloud) -> None:
    sess = password_session(cloud, "demo")

    def endpoint(service_type: str, region: str) -> Any:
        return sess.get_endpoint(service_type=service_type, region_name=region, interface="public")

    compute = await asyncio.to_thread(endpoint, "compute", "Pod2")
    volume = await asyncio.to_thread(endpoint, "block-storage", "Pod1")
    assert compute == cloud.pods["Pod2"].endpoints()["compute"]
    assert volume == cloud.pods["Pod1"].endpoints()["volumev3"].replace("%(project_id)s", DEMO.id)


async def test_atolls_token_validator_accepts_stub_tokens(cloud: StubCloud, http: httpx.AsyncClient) -> None:
    service = await issue_token(http, cloud.auth_url, "atoll")

    async def service_token(renew: bool) -> str:
        return service

    validator = KeystoneTokenValidator(identity_url=cloud.auth_url, service_token=service_token, client=http)
    info = await validator.validate(await issue_token(http, cloud.auth_url, "demo"))
    assert (info.project_id, info.user_id, set(info.roles)) == (DEMO.id, USERS["demo"].id, {"member", "reader"})
    with pytest.raises(Unauthorized):
        await validator.validate("gAAAAABforged")


async def test_atolls_catalog_discovery_and_health_probe_run_unchanged(
    cloud: StubCloud, http: httpx.AsyncClient
) -> None:
    reader = CatalogReader(password_session(cloud, "atoll"))
    found = await reader.regions(["Pod1", "Pod2", "Pod9"])
    assert set(found["Pod1"]) == POD_TYPES
    assert found["Pod2"]["compute"] == cloud.pods["Pod2"].endpoints()["compute"]
    assert found["Pod9"] == {}
    health = await probe(http, found["Pod1"], 1.0)
    assert (health.status, health.reason) == (PodStatus.UP, "")

    await cloud.set_failure("Pod1", Failure(FailureMode.ERROR, 503, frozenset({"image"})))
    health = await probe(http, found["Pod1"], 1.0)
    assert (health.status, health.reason) == (PodStatus.DOWN, "image: HTTP 503")

    await cloud.set_failure("Pod1", Failure(FailureMode.HANG, services=frozenset({"network"})))
    health = await probe(http, found["Pod1"], 0.2)
    assert (health.status, health.reason) == (PodStatus.DOWN, "network: no answer within 0.2s")

    await cloud.set_failure("Pod1", Failure(FailureMode.DOWN))
    health = await probe(http, found["Pod1"], 1.0)
    assert health.status == PodStatus.DOWN
    assert "compute: unreachable (ConnectError)" in health.reason
    assert "identity" not in health.reason  # Keystone itself is still up
    assert (await probe(http, found["Pod2"], 1.0)).status == PodStatus.UP


async def test_catalog_reads_at_once_all_succeed(cloud: StubCloud) -> None:
    """Pods registered together are discovered in parallel threads sharing one auth plugin."""
    reader = CatalogReader(password_session(cloud, "atoll"))
    found = await asyncio.gather(*(reader.regions([f"Pod{i % 2 + 1}"]) for i in range(24)))
    assert [set(f[f"Pod{i % 2 + 1}"]) for i, f in enumerate(found)] == [POD_TYPES] * 24


async def test_a_catalog_read_leaves_the_sessions_own_token_alone(cloud: StubCloud) -> None:
    """Each read gets a new token of its own; the plugin's token, which other threads may be
    reading at that moment, is neither invalidated nor replaced."""
    sess = password_session(cloud, "atoll")
    own = await asyncio.to_thread(sess.get_token)
    await CatalogReader(sess).regions(["Pod1"])
    assert sess.auth is not None
    assert sess.auth.get_auth_state() is not None
    assert await asyncio.to_thread(sess.get_token) == own


async def test_a_fresh_service_token_is_handed_out_without_a_thread(
    cloud: StubCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = SessionTokens(password_session(cloud, "atoll"))
    first = await tokens()

    async def no_thread(*_: object) -> str:
        raise AssertionError("a fresh token went through a thread")

    with monkeypatch.context() as patch:
        patch.setattr(anyio.to_thread, "run_sync", no_thread)
        assert await tokens() == first
    renewed = await tokens(renew=True)  # after a 401: a new token, fetched in a thread
    assert renewed != first
    assert await tokens() == renewed
