"""Builds the gateway (its app and its parts) from configuration."""

from __future__ import annotations

import dataclasses

from oslo_config import cfg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp

from atoll.gateway import compute, image, network, volume
from atoll.gateway.app import create_gateway
from atoll.gateway.deps import Gateway
from atoll.gateway.proxy import Forwarder
from atoll.gateway.router import Router
from atoll.gateway.services import SERVICES
from atoll.openstack.keystone import TokenValidator
from atoll.pods.client import PodLimits
from atoll.pods.pool import PodClients, version_reader
from atoll.pods.registry import PodRegistry, db_loader
from atoll.routing.store import RoutingStore
from atoll.scheduling.scheduler import Scheduler
from atoll.scheduling.weigher import Weigher

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


def build_gateway(
    conf: cfg.ConfigOpts,
    *,
    sessions: async_sessionmaker[AsyncSession],
    validator: TokenValidator,
    weigher: Weigher,
    clients: PodClients | None = None,
    registry: PodRegistry | None = None,
) -> GatewayParts:
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
    )
    routers: dict[str, Router] = {
        "compute": compute.router(gateway),
        "volume": volume.router(gateway),
        "image": image.router(gateway),
        "network": network.router(gateway),
    }
    app = create_gateway(conf, registry=registry, routers=routers, validator=validator)
    return GatewayParts(app, gateway, clients)
