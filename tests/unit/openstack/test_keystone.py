from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from atoll.core.clock import FakeClock
from atoll.core.errors import AtollError, ServiceUnavailable, Unauthorized
from atoll.openstack.keystone import KeystoneTokenValidator, TokenInfo, parse_token

SUBJECT = "gAAAAABsubject-token-of-a-user"
IDENTITY = "https://keystone.example/identity/v3"


def token_body(expires_at: dt.datetime, **token: Any) -> dict[str, Any]:
    body = {
        "methods": ["password"],
        "user": {"id": "u1", "name": "alice", "domain": {"id": "default", "name": "Default"}},
        "project": {"id": "p1", "name": "demo", "domain": {"id": "d1", "name": "Dom"}},
        "roles": [{"id": "r1", "name": "member"}, {"id": "r2", "name": "reader"}],
        "expires_at": expires_at.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
        "issued_at": "2026-01-01T00:00:00.000000Z",
    }
    body.update(token)
    return {"token": body}


class FakeKeystone:
    """A Keystone answering `GET /v3/auth/tokens` with what the test says; records calls."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[httpx.Request] = []
        self.answer: Callable[[httpx.Request], httpx.Response] = self.valid
        self.service_tokens: list[bool] = []

    def valid(self, _request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=token_body(self.clock.now() + dt.timedelta(hours=1)))

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        return self.answer(request)

    async def service_token(self, renew: bool) -> str:
        self.service_tokens.append(renew)
        return f"service-{len(self.service_tokens)}"

    def validator(self, cache_ttl: float = 300.0) -> KeystoneTokenValidator:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
        return KeystoneTokenValidator(
            identity_url=IDENTITY + "/",
            service_token=self.service_token,
            client=client,
            cache_ttl=cache_ttl,
            clock=self.clock,
        )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def keystone(clock: FakeClock) -> FakeKeystone:
    return FakeKeystone(clock)


async def test_valid_token_is_parsed(keystone: FakeKeystone, clock: FakeClock) -> None:
    info = await keystone.validator().validate(SUBJECT)
    assert info == TokenInfo(
        user_id="u1",
        project_id="p1",
        domain_id="d1",
        roles=("member", "reader"),
        expires_at=clock.now() + dt.timedelta(hours=1),
    )
    [request] = keystone.calls
    assert str(request.url) == IDENTITY + "/auth/tokens"
    assert request.method == "GET"
    assert request.headers["X-Subject-Token"] == SUBJECT
    assert request.headers["X-Auth-Token"] == "service-1"
    assert keystone.service_tokens == [False]


def test_parse_system_and_domain_scoped_tokens() -> None:
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    system = parse_token(token_body(expires, project=None, system={"all": True}, roles=[{"name": "admin"}]))
    assert (system.project_id, system.domain_id, system.system_scope, system.roles) == (None, None, "all", ("admin",))
    domain = token_body(expires, domain={"id": "d9", "name": "D"})
    del domain["token"]["project"]
    parsed = parse_token(domain)
    assert (parsed.project_id, parsed.domain_id, parsed.system_scope) == (None, "d9", None)
    assert parsed.expires_at == expires


async def test_cached_within_ttl_and_rechecked_after(keystone: FakeKeystone, clock: FakeClock) -> None:
    validator = keystone.validator(cache_ttl=300)
    first = await validator.validate(SUBJECT)
    clock.advance(299)
    assert await validator.validate(SUBJECT) == first
    assert len(keystone.calls) == 1
    clock.advance(2)
    await validator.validate(SUBJECT)
    assert len(keystone.calls) == 2
    await validator.validate("another-token")
    assert len(keystone.calls) == 3


async def test_no_cache_when_ttl_is_zero(keystone: FakeKeystone) -> None:
    validator = keystone.validator(cache_ttl=0)
    await validator.validate(SUBJECT)
    await validator.validate(SUBJECT)
    assert len(keystone.calls) == 2


async def test_expired_token_is_rejected_even_when_cached(keystone: FakeKeystone, clock: FakeClock) -> None:
    expires = clock.now() + dt.timedelta(seconds=60)
    keystone.answer = lambda _request: httpx.Response(200, json=token_body(expires))
    validator = keystone.validator(cache_ttl=300)
    await validator.validate(SUBJECT)
    clock.advance(60)
    with pytest.raises(Unauthorized):
        await validator.validate(SUBJECT)
    assert len(keystone.calls) == 1


async def test_token_already_expired_is_rejected(keystone: FakeKeystone, clock: FakeClock) -> None:
    keystone.answer = lambda _request: httpx.Response(200, json=token_body(clock.now() - dt.timedelta(seconds=1)))
    with pytest.raises(Unauthorized):
        await keystone.validator().validate(SUBJECT)


async def test_unknown_token_is_unauthorized_and_cached(keystone: FakeKeystone) -> None:
    keystone.answer = lambda _request: httpx.Response(404, json={"error": {"code": 404}})
    validator = keystone.validator()
    for _ in range(2):
        with pytest.raises(Unauthorized, match="requires authentication"):
            await validator.validate(SUBJECT)
    assert len(keystone.calls) == 1


async def test_refused_service_token_is_renewed_once(keystone: FakeKeystone) -> None:
    keystone.answer = lambda _request: httpx.Response(401)
    with pytest.raises(ServiceUnavailable, match="service credentials were refused"):
        await keystone.validator().validate(SUBJECT)
    assert keystone.service_tokens == [False, True]
    assert [r.headers["X-Auth-Token"] for r in keystone.calls] == ["service-1", "service-2"]


async def test_renewed_service_token_is_used(keystone: FakeKeystone) -> None:
    keystone.answer = lambda r: httpx.Response(401) if r.headers["X-Auth-Token"] == "service-1" else keystone.valid(r)
    validator = keystone.validator()
    assert (await validator.validate(SUBJECT)).user_id == "u1"
    assert keystone.service_tokens == [False, True]


async def test_keystone_error_is_service_unavailable_and_not_cached(keystone: FakeKeystone) -> None:
    keystone.answer = lambda _request: httpx.Response(500, text="oops")
    validator = keystone.validator()
    with pytest.raises(ServiceUnavailable, match="Keystone answered 500"):
        await validator.validate(SUBJECT)
    keystone.answer = keystone.valid
    assert (await validator.validate(SUBJECT)).project_id == "p1"


@pytest.mark.parametrize("error", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
async def test_unreachable_keystone_is_service_unavailable(keystone: FakeKeystone, error: Exception) -> None:
    def fail(_request: httpx.Request) -> httpx.Response:
        raise error

    keystone.answer = fail
    with pytest.raises(ServiceUnavailable, match=f"Keystone could not be reached: {type(error).__name__}"):
        await keystone.validator().validate(SUBJECT)


@pytest.mark.parametrize("status", [200, 401, 404, 500, 0])
async def test_subject_token_never_logged_or_shown(
    keystone: FakeKeystone, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if status == 0:
            raise httpx.ConnectError(f"cannot connect for {request.url}")
        if status == 200:
            return keystone.valid(request)
        return httpx.Response(status, text="no")

    keystone.answer = answer
    caplog.set_level(logging.DEBUG)
    error: BaseException | None = None
    try:
        await keystone.validator().validate(SUBJECT)
    except AtollError as raised:
        error = raised
    assert (error is None) == (status == 200)
    while error is not None:
        assert SUBJECT not in str(error)
        assert SUBJECT not in repr(error)
        error = error.__cause__
    assert keystone.calls
    for record in caplog.records:
        assert SUBJECT not in record.getMessage()
