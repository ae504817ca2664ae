from __future__ import annotations

import logging
import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.api.app import create_app
from atoll.context import new_request_id
from atoll.openstack.keystone import TokenInfo
from atoll.web.request_id import global_request_id
from tests.conftest import ADMIN, MEMBER
from tests.unit.api.helpers import REQUEST_ID, fault


async def test_every_response_has_a_fresh_request_id(client: httpx.AsyncClient) -> None:
    responses = [
        await client.get("/"),
        await client.get("/v1.0"),
        await client.get("/v1.0/pods"),  # 401
        await client.get("/v1.0/pods", headers={"X-Auth-Token": "bad"}),  # 401
        await client.get("/v1.0/pods", headers=ADMIN),  # 200
        await client.post("/v1.0/pods", json={}, headers=ADMIN),  # 400
        await client.get("/v1.0/pods", headers=MEMBER),  # 403
        await client.get("/v1.0/pods/nope", headers=ADMIN),  # 404
        await client.delete("/v1.0/pods", headers=ADMIN),  # 405
        await client.get("/v1.0/nowhere", headers=ADMIN),  # 404
    ]
    ids = [r.headers.get_list("x-openstack-request-id") for r in responses]
    assert all(len(values) == 1 for values in ids), ids
    flat = [values[0] for values in ids]
    assert all(REQUEST_ID.match(value) for value in flat), flat
    assert len(set(flat)) == len(flat)


async def test_incoming_request_id_is_not_echoed(client: httpx.AsyncClient) -> None:
    incoming = f"req-{uuid.uuid4()}"
    for headers in ({"X-OpenStack-Request-ID": incoming, **ADMIN}, {"X-OpenStack-Request-ID": incoming}):
        response = await client.get("/v1.0/pods", headers=headers)
        local = response.headers["x-openstack-request-id"]
        assert local != incoming
        assert REQUEST_ID.match(local)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("req-12345678-1234-4234-8234-123456789abc", "req-12345678-1234-4234-8234-123456789abc"),
        ("req-12345678-1234-4234-8234-123456789ABC", None),
        ("12345678-1234-4234-8234-123456789abc", None),
        ("req-12345678-1234-4234-8234-123456789abc\n", None),
        ("req-x; DROP TABLE pods", None),
        ("", None),
    ],
)
def test_global_request_id_accepts_only_the_openstack_form(value: str, expected: str | None) -> None:
    scope = {"type": "http", "headers": [(b"x-openstack-request-id", value.encode())]}
    assert global_request_id(scope) == expected
    assert global_request_id({"type": "http", "headers": []}) is None


class _CrashingValidator:
    async def validate(self, token: str) -> TokenInfo:
        raise RuntimeError("boom")


async def test_a_crash_is_a_500_fault_with_the_request_id(
    sessions: async_sessionmaker[AsyncSession], conf: object, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(conf, sessions=sessions, validator=_CrashingValidator())  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://atoll.test") as http:
        with caplog.at_level(logging.ERROR, logger="atoll.web.request_id"):
            response = await http.get("/v1.0/pods", headers=ADMIN)
    request_id = response.headers["x-openstack-request-id"]
    assert REQUEST_ID.match(request_id)
    message = fault(response, 500, "internalServerError")
    assert request_id in message
    assert "boom" not in message
    assert any(request_id in record.getMessage() for record in caplog.records)


def test_new_request_ids_are_distinct_version_4_uuids() -> None:
    ids = [new_request_id() for _ in range(200)]
    assert len(set(ids)) == 200
    for request_id in ids:
        parsed = uuid.UUID(request_id.removeprefix("req-"))
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert f"req-{parsed}" == request_id
        assert global_request_id({"headers": [(b"x-openstack-request-id", request_id.encode())]}) == request_id
