"""Atoll's health probe against the test bed's real services: each one recognised, a wrong endpoint told apart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from keystoneauth1 import session
from keystoneauth1.identity import v3

from atoll.openstack.catalog import CatalogReader
from atoll.openstack.http import http_client
from atoll.pods.health import probe
from atoll.types import PodStatus

pytestmark = pytest.mark.realpods


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(10.0) as http:
        yield http


async def _endpoints(testbed: Any, region: str) -> dict[str, str]:
    creds = testbed.credentials("admin")
    auth = v3.Password(
        auth_url=creds["auth_url"],
        username=creds["username"],
        password=creds["password"],
        project_name=creds["project_name"],
        user_domain_name="Default",
        project_domain_name="Default",
    )
    keystone = session.Session(auth=auth)
    try:
        found = await CatalogReader(keystone).regions([region])
    finally:
        keystone.close()
    return dict(found[region])


async def test_every_real_service_answers_as_itself(testbed: Any, client: httpx.AsyncClient) -> None:
    pod = testbed.pod_regions[0]
    endpoints = await _endpoints(testbed, pod)
    assert {"compute", "image", "network", "placement"} <= set(endpoints)
    assert {"volumev3", "block-storage"} & set(endpoints)
    for service, url in sorted(endpoints.items()):
        health = await probe(client, {service: url}, 10.0)
        assert (service, health.status, health.reason) == (service, PodStatus.UP, ""), url
    assert (await probe(client, endpoints, 10.0)).status == PodStatus.UP


async def test_a_wrong_real_endpoint_is_reported_as_misconfigured(testbed: Any, client: httpx.AsyncClient) -> None:
    endpoints = await _endpoints(testbed, testbed.pod_regions[0])
    swapped = {
        "image": endpoints["compute"],
        "compute": endpoints["network"],
        "network": endpoints["placement"],
        "placement": endpoints["image"],
    }
    health = await probe(client, swapped, 10.0)
    assert health.status == PodStatus.DOWN
    reasons = dict(part.split(": ", 1) for part in health.reason.split("; "))
    assert sorted(reasons) == ["compute", "image", "network", "placement"]
    assert "serves compute's version document, not image's" in reasons["image"]
    assert "serves network's version document, not compute's" in reasons["compute"]
    assert "serves placement's version document, not network's" in reasons["network"]
    assert "serves image's version document, not placement's" in reasons["placement"]
    missing = {"compute": endpoints["compute"].rstrip("/") + "/no-such-api/v2.1"}
    reason = (await probe(client, missing, 10.0)).reason
    assert reason.startswith("compute: misconfigured endpoint: ")
    assert "without compute's version document" in reason
