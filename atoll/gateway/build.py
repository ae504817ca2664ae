"""Builds the gateway (its app and its parts) from configuration."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from oslo_config import cfg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp

from atoll.gateway import compute, image, network, volume
from atoll.gateway.app import create_gateway
from atoll.gateway.deps import Gateway
from atoll.gateway.names import TopNames
from atoll.gateway.proxy import Forwarder
from atoll.gateway.router import Router
from atoll.gateway.services import SERVICES
from atoll.jobs.declarations import JobTypes
from atoll.jobs.enqueue import NewJob, enqueue
from atoll.openstack.keystone import TokenValidator
from atoll.pods.client import PodLimits
from atoll.pods.pool import PodClients, version_reader
from atoll.pods.registry import PodRegistry, db_loader
from atoll.policy import Authorizer
from atoll.routing.store import RoutingStore
from atoll.scheduling.scheduler import Scheduler
from atoll.scheduling.weigher import Weigher
from atoll.sync import handlers, policy_jobs
from atoll.sync.calls import PodCalls, Tokens
from atoll.types import JobId

MOUNTS = tuple(service.prefix for service in SERVICES)


@dataclasses.dataclass
class GatewayParts:
    app: ASGIApp
    gateway: Gateway
    clients: PodClients

    async def close(self) -> None:
        await self.gateway.registry.close()
        await self.clients.close()


def pod_limits(conf: cfg.ConfigOpts) -> PodLimits:
    return PodLimits(
        timeout=conf.gateway.pod_timeout,
        connect_timeout=conf.gateway.pod_connect_timeout,
        read_timeout=conf.gateway.pod_timeout,
        connections=conf.gateway.pod_connections,
    )


def _enqueuer(sessions: async_sessionmaker[AsyncSession]) -> Callable[[NewJob], Awaitable[JobId]]:
    async def write(job: NewJob) -> JobId:
        async with sessions.begin() as session:
            return await enqueue(session, job)

    return write


def build_gateway(
    conf: cfg.ConfigOpts,
    *,
    sessions: async_sessionmaker[AsyncSession],
    validator: TokenValidator,
    weigher: Weigher,
    clients: PodClients | None = None,
    registry: PodRegistry | None = None,
    service_tokens: Tokens | None = None,
    authorizer: Authorizer | None = None,
) -> GatewayParts:
    """`service_tokens`: Atoll's `[service_auth]` token, for what the gateway does on its own
    (copying an image between pods); without it those answer as if the pods could not."""
    clients = clients or PodClients(pod_limits(conf))
    registry = registry or PodRegistry(
        db_loader(sessions), version_reader(clients, conf.engine.probe_timeout), ttl=conf.gateway.registry_ttl
    )
    gateway = Gateway(
        conf=conf,
        registry=registry,
        forwarder=Forwarder(clients),
        routings=RoutingStore(sessions),
        scheduler=Scheduler(sessions, weigher),
        calls=None if service_tokens is None else PodCalls(registry, clients, service_tokens),
        jobs=JobTypes([*handlers.job_types(None), *policy_jobs.job_types(None)]),
        enqueue=_enqueuer(sessions),
        authorizer=authorizer or Authorizer(conf),
        top_names=TopNames(ttl=float(conf.gateway.top_names_ttl)),
    )
    routers: dict[str, Router] = {
        "compute": compute.router(gateway),
        "volume": volume.router(gateway),
        "image": image.router(gateway),
        "network": network.router(gateway),
    }
    app = create_gateway(conf, registry=registry, routers=routers, validator=validator)
    return GatewayParts(app, gateway, clients)
