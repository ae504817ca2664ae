"""The gateway in-process (httpx.ASGITransport) in front of two fake Novas on loopback,
registered as pods Pod1 (az1) and Pod2 (az2) in a real database, with fake tokens."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.conf import new_config
from atoll.db import pods as pods_db
from atoll.gateway.build import GatewayParts, build_gateway
from atoll.pods.info import PodInfo
from atoll.pods.pool import PodClients
from atoll.scheduling.weigher import EvenWeigher
from atoll.types import PodId, PodStatus
from tests.conftest import FakeValidator
from tests.unit.gateway.fakenova import FakeNova
from tests.unit.pods.dbpods import set_pod
from tests.unit.pods.fakepod import serve

Sessions = async_sessionmaker[AsyncSession]


@dataclasses.dataclass
class Bed:
    http: httpx.AsyncClient
    parts: GatewayParts
    sessions: Sessions
    pods: dict[str, FakeNova]
    ids: dict[str, PodId]

    async def set_status(self, name: str, status: PodStatus) -> None:
        async with self.sessions.begin() as session:
            await set_pod(session, self.ids[name], status=status)
        self.parts.gateway.registry.invalidate()

    async def pod(self, name: str) -> PodInfo:
        snapshot = await self.parts.gateway.registry.snapshot()
        info = snapshot.by_name(name)
        assert info is not None
        return info


async def _register(sessions: Sessions, name: str, az: str, pod_az: str, url: str) -> PodId:
    async with sessions.begin() as session:
        pod = await pods_db.create(session, region_name=name, az_name=az, pod_az_name=pod_az)
        endpoints = {"compute": url + "/v2.1", "volumev3": url + "/v3/%(project_id)s", "image": url}
        await set_pod(session, pod.pod_id, endpoints=endpoints, status=PodStatus.UP)
        return PodId(pod.pod_id)


@pytest.fixture
async def bed(sessions: Sessions) -> AsyncIterator[Bed]:
    one, two = FakeNova(az="nova", versions=("2.1", "2.96")), FakeNova(az="zone-b", versions=("2.3", "2.100"))
    async with serve(one), serve(two):
        async with sessions.begin() as session:
            await pods_db.create(session, region_name="RegionOne")
        ids = {
            "Pod1": await _register(sessions, "Pod1", "az1", "", one.url),
            "Pod2": await _register(sessions, "Pod2", "az2", "zone-b", two.url),
        }
        conf = new_config()
        conf.set_override("list_timeout", 0.5, group="gateway")
        parts = build_gateway(
            conf, sessions=sessions, validator=FakeValidator(), weigher=EvenWeigher(), clients=PodClients()
        )
        transport = httpx.ASGITransport(app=parts.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://atoll.test") as http:
            yield Bed(http, parts, sessions, {"Pod1": one, "Pod2": two}, ids)
        await parts.close()


async def with_service_credentials(bed: Bed) -> AsyncIterator[Bed]:
    """The bed's gateway built again with Atoll's service credentials (a fixed token, "service")."""

    async def service_token(renew: bool = False) -> str:
        return "service"

    conf = new_config()
    conf.set_override("list_timeout", 0.5, group="gateway")
    parts = build_gateway(
        conf,
        sessions=bed.sessions,
        validator=FakeValidator(),
        weigher=EvenWeigher(),
        clients=PodClients(),
        service_tokens=service_token,
    )
    transport = httpx.ASGITransport(app=parts.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://atoll.test") as http:
        yield dataclasses.replace(bed, http=http, parts=parts)
    await parts.close()
