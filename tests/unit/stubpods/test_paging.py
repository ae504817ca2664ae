"""Pagination and sorting behave like the real services: the stubs, seeded with the population the
real pod had, answer each recorded query with the same items in the same order and the same links.
The queries cover default orders, sort keys and directions (with their tie-breakers), limits, markers
(and a marker past the end), filters and invalid sort keys."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from stubpods import CloudConfig, StubCloud
from stubpods.recorded import PLACEHOLDERS, load, rewrite, seed, to_stub_ids

from tests.unit.stubpods.conftest import Session, issue_token

SERVICE_TYPES = {"nova": "compute", "cinder": "volumev3", "glance": "image", "neutron": "network"}


@pytest.fixture
async def session() -> AsyncIterator[Session]:
    async with StubCloud(CloudConfig.uniform(1)) as cloud, httpx.AsyncClient(timeout=10) as http:
        state = cloud.pods["Pod1"].state
        state.images.clear()  # the recorded glance population has the test bed's public image
        yield Session(http, cloud, await issue_token(http, cloud.auth_url, "demo"))


@pytest.mark.parametrize("service", ["nova", "cinder", "glance", "neutron"])
async def test_recorded_queries_answer_the_same(session: Session, service: str) -> None:
    recorded = load(f"{service}-paging")
    pod = session.cloud.pods["Pod1"]
    seed(pod.state, service, recorded["population"])
    roots = {"{" + name + "}": f"{pod.base_url}/{prefix}" for name, prefix in PLACEHOLDERS.items()}
    roots.update(to_stub_ids())
    ids = [item["id"] for item in recorded["population"]]
    key = recorded["collection"]
    mismatches = []
    for query, want in recorded["queries"].items():
        concrete = query.format(*ids)
        path = recorded["path"] + (f"?{concrete}" if concrete else "")
        response = await session.get("Pod1", SERVICE_TYPES[service], path)
        body = response.json()
        links = body.get(f"{key}_links") or ([{"rel": "next", "href": body["next"]}] if "next" in body else [])
        got = {
            "status": response.status_code,
            "ids": [item["id"] for item in body.get(key, [])],
            "links": [{"rel": link["rel"], "href": link["href"]} for link in links],
            "body": None if response.status_code < 400 else body,
        }
        expected = rewrite(want, roots)
        if got != expected:
            mismatches.append(f"{query!r}:\n  stub {got}\n  real {expected}")
    assert not mismatches, "\n".join(mismatches)


def test_the_recordings_cover_paging() -> None:
    """The recorded queries exercise what the replay claims: full pages with links, markers, sorts."""
    for service in ("nova", "cinder", "glance", "neutron"):
        queries = load(f"{service}-paging")["queries"]
        assert any(q["links"] for q in queries.values()), service
        assert any("marker" in q for q in queries), service
        assert any("sort" in q for q in queries), service
        assert len({tuple(q["ids"]) for q in queries.values() if q["ids"]}) >= 4, service
