from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.api.app import create_app
from atoll.api.routes import pods as pods_routes
from atoll.core.clock import FakeClock
from atoll.pods.directory import PodDirectory
from tests.conftest import ADMIN, MEMBER, FakeValidator
from tests.unit.api.helpers import REQUEST_ID, create_binding, create_pod, create_routing, fault
from tests.unit.conftest import Override
from tests.unit.pods.versions_docs import NOVA


async def test_create_list_show_delete_pod(client: httpx.AsyncClient) -> None:
    created = await client.post("/v1.0/pods", json={"pod": {"region_name": "RegionOne"}}, headers=ADMIN)
    assert created.status_code == 200, created.text
    top = created.json()["pod"]
    assert top["region_name"] == "RegionOne"
    assert top["az_name"] == ""
    assert top["is_top"] is True
    bottom = (
        await client.post("/v1.0/pods", json={"pod": {"pod_name": "Pod1", "az_name": "az1"}}, headers=ADMIN)
    ).json()["pod"]
    assert bottom["region_name"] == "Pod1"
    assert bottom["is_top"] is False
    listed = (await client.get("/v1.0/pods", headers=ADMIN)).json()["pods"]
    assert [p["region_name"] for p in listed] == ["RegionOne", "Pod1"]
    shown = await client.get(f"/v1.0/pods/{bottom['pod_id']}", headers=ADMIN)
    assert shown.json()["pod"]["pod_id"] == bottom["pod_id"]
    deleted = await client.delete(f"/v1.0/pods/{bottom['pod_id']}", headers=ADMIN)
    assert deleted.status_code == 200
    assert deleted.json() == {}
    gone = await client.get(f"/v1.0/pods/{bottom['pod_id']}", headers=ADMIN)
    assert gone.status_code == 404
    assert gone.json() == {"itemNotFound": {"code": 404, "message": f"Pod {bottom['pod_id']} could not be found."}}


async def test_second_top_pod_and_duplicate_region_conflict(client: httpx.AsyncClient) -> None:
    assert (await client.post("/v1.0/pods", json={"pod": {"region_name": "Top"}}, headers=ADMIN)).status_code == 200
    second = await client.post("/v1.0/pods", json={"pod": {"region_name": "Top2"}}, headers=ADMIN)
    assert second.status_code == 409
    assert "top pod" in second.json()["conflictingRequest"]["message"]
    duplicate = await client.post("/v1.0/pods", json={"pod": {"region_name": "Top", "az_name": "az"}}, headers=ADMIN)
    assert duplicate.status_code == 409


async def test_member_cannot_create_pods(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1.0/pods", json={"pod": {"region_name": "Pod1", "az_name": "a"}}, headers=MEMBER)
    assert response.status_code == 403
    assert response.json()["forbidden"]["code"] == 403
    assert (await client.get("/v1.0/pods", headers=ADMIN)).json() == {"pods": [], "pods_links": []}


async def test_create_with_both_names_equal_is_accepted(client: httpx.AsyncClient) -> None:
    body = {"pod": {"region_name": "Pod1", "pod_name": "Pod1", "az_name": "az1", "dc_name": "dc1"}}
    response = await client.post("/v1.0/pods", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    pod = response.json()["pod"]
    assert (pod["region_name"], pod["az_name"], pod["dc_name"], pod["pod_az_name"]) == ("Pod1", "az1", "dc1", "")
    assert pod["status"] == "unknown"
    assert pod["endpoints"] == {}
    assert REQUEST_ID.match(response.headers["x-openstack-request-id"])


async def test_create_with_different_names_is_refused(client: httpx.AsyncClient) -> None:
    body = {"pod": {"region_name": "Pod1", "pod_name": "Pod2", "az_name": "az1"}}
    message = fault(await client.post("/v1.0/pods", json=body, headers=ADMIN), 400, "badRequest")
    assert "region_name and pod_name differ" in message
    assert (await client.get("/v1.0/pods", headers=ADMIN)).json() == {"pods": [], "pods_links": []}


async def test_create_without_a_name_is_refused(client: httpx.AsyncClient) -> None:
    message = fault(await client.post("/v1.0/pods", json={"pod": {"az_name": "az1"}}, headers=ADMIN), 400, "badRequest")
    assert "region_name is required" in message


async def test_update_az_and_dc_of_a_bottom_pod(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    response = await client.put(
        f"/v1.0/pods/{pod['pod_id']}", json={"pod": {"az_name": "az2", "dc_name": "dc9"}}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    updated = response.json()["pod"]
    assert (updated["az_name"], updated["dc_name"], updated["region_name"]) == ("az2", "dc9", "Pod1")
    assert updated["updated_at"] is not None
    shown = (await client.get(f"/v1.0/pods/{pod['pod_id']}", headers=ADMIN)).json()["pod"]
    assert (shown["az_name"], shown["dc_name"]) == ("az2", "dc9")


async def test_rename_to_an_existing_region_conflicts(client: httpx.AsyncClient) -> None:
    await create_pod(client, "Pod1", "az1")
    pod2 = await create_pod(client, "Pod2", "az1")
    response = await client.put(f"/v1.0/pods/{pod2['pod_id']}", json={"pod": {"region_name": "Pod1"}}, headers=ADMIN)
    assert "Pod1" in fault(response, 409, "conflictingRequest")
    shown = (await client.get(f"/v1.0/pods/{pod2['pod_id']}", headers=ADMIN)).json()["pod"]
    assert shown["region_name"] == "Pod2"


async def test_rename_resets_endpoints_and_status(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    response = await client.put(f"/v1.0/pods/{pod['pod_id']}", json={"pod": {"region_name": "Pod9"}}, headers=ADMIN)
    renamed = response.json()["pod"]
    assert renamed["region_name"] == "Pod9"
    assert renamed["status"] == "unknown"
    assert "region changed" in renamed["status_reason"]


async def test_top_pod_cannot_get_an_az(client: httpx.AsyncClient) -> None:
    top = await create_pod(client, "RegionOne", "")
    response = await client.put(f"/v1.0/pods/{top['pod_id']}", json={"pod": {"az_name": "az1"}}, headers=ADMIN)
    assert "top pod" in fault(response, 409, "conflictingRequest")
    shown = (await client.get(f"/v1.0/pods/{top['pod_id']}", headers=ADMIN)).json()["pod"]
    assert (shown["az_name"], shown["is_top"]) == ("", True)


async def test_bottom_pod_cannot_become_top(client: httpx.AsyncClient) -> None:
    bottom = await create_pod(client, "Pod1", "az1")
    response = await client.put(f"/v1.0/pods/{bottom['pod_id']}", json={"pod": {"az_name": ""}}, headers=ADMIN)
    assert "cannot become the top pod" in fault(response, 409, "conflictingRequest")
    shown = (await client.get(f"/v1.0/pods/{bottom['pod_id']}", headers=ADMIN)).json()["pod"]
    assert (shown["az_name"], shown["is_top"]) == ("az1", False)


async def test_update_needs_a_field_and_refuses_nulls(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    empty = await client.put(f"/v1.0/pods/{pod['pod_id']}", json={"pod": {}}, headers=ADMIN)
    assert "at least one of" in fault(empty, 400, "badRequest")
    null = await client.put(f"/v1.0/pods/{pod['pod_id']}", json={"pod": {"dc_name": None}}, headers=ADMIN)
    assert "may not be null" in fault(null, 400, "badRequest")


async def test_delete_refused_while_a_binding_references_the_pod(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    binding = await create_binding(client, "project-a", pod["pod_id"])
    message = fault(await client.delete(f"/v1.0/pods/{pod['pod_id']}", headers=ADMIN), 409, "conflictingRequest")
    assert "1 binding(s) and 0 routing(s)" in message
    assert (await client.get(f"/v1.0/pods/{pod['pod_id']}", headers=ADMIN)).status_code == 200
    assert (await client.delete(f"/v1.0/bindings/{binding['id']}", headers=ADMIN)).status_code == 200
    assert (await client.delete(f"/v1.0/pods/{pod['pod_id']}", headers=ADMIN)).status_code == 200


async def test_delete_refused_while_a_routing_references_the_pod(client: httpx.AsyncClient) -> None:
    pod = await create_pod(client, "Pod1", "az1")
    await create_routing(client, pod["pod_id"], "top-1")
    await create_routing(client, pod["pod_id"], "top-2")
    message = fault(await client.delete(f"/v1.0/pods/{pod['pod_id']}", headers=ADMIN), 409, "conflictingRequest")
    assert "0 binding(s) and 2 routing(s)" in message
    assert (await client.get(f"/v1.0/pods/{pod['pod_id']}", headers=ADMIN)).status_code == 200


async def test_unknown_pod_is_404_for_show_update_and_delete(client: httpx.AsyncClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    expected = f"Pod {missing} could not be found."
    assert fault(await client.get(f"/v1.0/pods/{missing}", headers=ADMIN), 404, "itemNotFound") == expected
    update = await client.put(f"/v1.0/pods/{missing}", json={"pod": {"dc_name": "x"}}, headers=ADMIN)
    assert fault(update, 404, "itemNotFound") == expected
    assert fault(await client.delete(f"/v1.0/pods/{missing}", headers=ADMIN), 404, "itemNotFound") == expected


async def test_pods_refuse_unknown_query_parameters(client: httpx.AsyncClient) -> None:
    message = fault(await client.get("/v1.0/pods?region_name=x", headers=ADMIN), 400, "badRequest")
    assert message == "Unknown query parameter(s): region_name."


class SlowCatalog:
    """A Keystone catalog that answers only when told to (or fails, when given an error)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.release = asyncio.Event()
        self.asked: list[list[str]] = []
        self.error = error

    async def regions(self, region_names: Iterable[str]) -> Mapping[str, dict[str, str]]:
        self.asked.append(sorted(region_names))
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return {name: {"compute": f"http://nova.{name.lower()}/v2.1"} for name in region_names}


def _nova(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=NOVA)


@contextlib.asynccontextmanager
async def _app(
    sessions: async_sessionmaker[AsyncSession], conf: Any, catalog: SlowCatalog
) -> AsyncIterator[httpx.AsyncClient]:
    """The admin API with a pod directory, its lifespan run as a server would."""
    probes = httpx.AsyncClient(transport=httpx.MockTransport(_nova))
    directory = PodDirectory(sessions, catalog, probes, FakeClock(), probe_timeout=1.0)
    app = create_app(conf, sessions=sessions, validator=FakeValidator(), directory=directory)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://atoll.test") as http:
                yield http
    finally:
        await probes.aclose()


async def _until(predicate: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(500):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


async def test_register_does_not_wait_for_a_slow_pod(sessions: async_sessionmaker[AsyncSession], conf: Any) -> None:
    catalog = SlowCatalog()
    async with _app(sessions, conf, catalog) as client:
        created = await asyncio.wait_for(
            client.post("/v1.0/pods", json={"pod": {"region_name": "Pod1", "az_name": "az1"}}, headers=ADMIN), 5
        )
        assert created.status_code == 200, created.text
        pod = created.json()["pod"]
        assert (pod["status"], pod["endpoints"]) == ("unknown", {})
        await _until(lambda: _true(bool(catalog.asked)), "the refresh to start")
        assert catalog.asked == [["Pod1"]]  # started off the request path

        catalog.release.set()
        url = f"/v1.0/pods/{pod['pod_id']}"

        async def up() -> bool:
            shown = (await client.get(url, headers=ADMIN)).json()["pod"]
            return bool(shown["status"] == "up")

        await _until(up, "the background refresh to find the pod up")
        shown = (await client.get(url, headers=ADMIN)).json()["pod"]
        assert shown["endpoints"] == {"compute": "http://nova.pod1/v2.1"}


async def test_rename_does_not_wait_and_a_pending_refresh_ends_with_the_app(
    sessions: async_sessionmaker[AsyncSession], conf: Any
) -> None:
    catalog = SlowCatalog()
    async with _app(sessions, conf, catalog) as client:
        pod = await create_pod(client, "Pod1", "az1")
        renamed = await asyncio.wait_for(
            client.put(f"/v1.0/pods/{pod['pod_id']}", json={"pod": {"region_name": "Pod9"}}, headers=ADMIN), 5
        )
        assert (renamed.json()["pod"]["region_name"], renamed.json()["pod"]["status"]) == ("Pod9", "unknown")
        await _until(lambda: _true(["Pod9"] in catalog.asked), "the rename's refresh to start")
        unchanged = await client.put(f"/v1.0/pods/{pod['pod_id']}", json={"pod": {"dc_name": "dc2"}}, headers=ADMIN)
        assert unchanged.status_code == 200
    # Leaving the lifespan cancelled the refreshes still waiting on the catalog: nothing leaks.
    assert sorted(catalog.asked) == [["Pod1"], ["Pod9"]]


async def test_a_failing_refresh_is_logged(
    sessions: async_sessionmaker[AsyncSession], conf: Any, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = SlowCatalog(error=RuntimeError("catalog reader bug"))
    catalog.release.set()
    async with _app(sessions, conf, catalog) as client:
        pod = await create_pod(client, "Pod1", "az1")
        assert pod["status"] == "unknown"
        await _until(lambda: _true(any(r.levelno == logging.ERROR for r in caplog.records)), "the error log")
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == f"Background task refresh-pod-{pod['pod_id']} crashed"
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "catalog reader bug"


async def test_a_refresh_that_takes_too_long_is_logged_and_given_up(
    sessions: async_sessionmaker[AsyncSession],
    conf: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    override: Override,
) -> None:
    monkeypatch.setattr(pods_routes, "REFRESH_SLACK", 0.0)
    override("probe_timeout", 0.1, "engine")
    catalog = SlowCatalog()  # never answers
    async with _app(sessions, conf, catalog) as client:
        pod = await create_pod(client, "Pod1", "az1")
        await _until(lambda: _true(any(r.levelno == logging.WARNING for r in caplog.records)), "the warning")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        f"Pod {pod['pod_id']}: refresh did not finish within 0.1s; the engine tries again at its next turn"
    ]


async def _true(value: bool) -> bool:
    return value
