"""Builds the engine's parts from configuration."""

from __future__ import annotations

import logging

import httpx
from oslo_config import cfg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.clock import Clock
from atoll.engine.coordination import ToozLeadership
from atoll.engine.periodic import PeriodicRunner, PeriodicTask
from atoll.openstack.catalog import CatalogReader
from atoll.openstack.session import load_session
from atoll.pods.directory import PodDirectory

LOG = logging.getLogger(__name__)


def has_service_auth(conf: cfg.ConfigOpts) -> bool:
    return bool(conf.service_auth.cloud or conf.service_auth.auth_type)


def build_directory(
    conf: cfg.ConfigOpts, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient, clock: Clock
) -> PodDirectory:
    catalog = None
    if has_service_auth(conf):
        catalog = CatalogReader(load_session(conf, "service_auth"), conf.service_auth.interface)
    else:
        LOG.warning("[service_auth] is not configured: pods' endpoints cannot be discovered")
    return PodDirectory(sessions, catalog, client, clock, conf.engine.probe_timeout)


def build_runner(conf: cfg.ConfigOpts, directory: PodDirectory, clock: Clock) -> PeriodicRunner:
    tasks = [
        PeriodicTask("discover_endpoints", conf.engine.discovery_interval, directory.discover),
        PeriodicTask("probe_pods", conf.engine.health_interval, directory.probe),
    ]
    return PeriodicRunner(tasks, ToozLeadership(conf.engine.coordination_url), clock)
