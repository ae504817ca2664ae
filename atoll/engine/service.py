"""Builds the engine's parts from configuration."""

from __future__ import annotations

import logging

import httpx
from oslo_config import cfg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.clock import Clock
from atoll.engine.coordination import ToozLeadership
from atoll.engine.lifecycle import Lifecycle
from atoll.engine.periodic import PeriodicRunner, PeriodicTask
from atoll.jobs.declarations import JobTypes, RetryPolicy
from atoll.jobs.worker import Worker, WorkerSettings
from atoll.openstack.catalog import CatalogReader
from atoll.openstack.session import SessionTokens, load_session
from atoll.pods.client import PodLimits
from atoll.pods.directory import PodDirectory
from atoll.pods.pool import PodClients
from atoll.pods.registry import PodRegistry, db_loader
from atoll.sync import handlers as sync_handlers
from atoll.sync import policy_jobs
from atoll.sync.calls import PodCalls
from atoll.sync.reconcile import Reconciler

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
    leadership = ToozLeadership(conf.engine.coordination_url)
    return PeriodicRunner(tasks, leadership, clock, check_interval=conf.engine.leader_check_interval)


SYNC_POLICY_LOCK = b"atoll-engine-sync-policies"


def build_reconcile_runner(conf: cfg.ConfigOpts, reconciler: Reconciler, clock: Clock) -> PeriodicRunner:
    """The sync policies' reconcile, on the engine holding its own lock: a pod slow to answer a check
    never delays the health probes, and the two kinds of work may lead on different engines."""
    task = PeriodicTask("reconcile_sync_policies", conf.sync.policy_scan_interval, reconciler.turn)
    leadership = ToozLeadership(conf.engine.coordination_url, lock_name=SYNC_POLICY_LOCK)
    return PeriodicRunner([task], leadership, clock, check_interval=conf.engine.leader_check_interval)


def job_types(sync_calls: PodCalls | None = None) -> JobTypes:
    """The job types of this release, each declared by the package whose work it is.

    A process that only enqueues jobs (atoll-api without `run_engine`) passes no pod access."""
    return JobTypes([*sync_handlers.job_types(sync_calls), *policy_jobs.job_types(sync_calls)])


def build_pod_calls(
    conf: cfg.ConfigOpts, sessions: async_sessionmaker[AsyncSession], lifecycle: Lifecycle, clock: Clock
) -> PodCalls | None:
    """Pod access on Atoll's service credentials for the jobs (sync), or None without them."""
    if not has_service_auth(conf):
        LOG.warning("[service_auth] is not configured: sync jobs cannot reach the pods")
        return None
    gateway = conf.gateway
    limits = PodLimits(gateway.pod_timeout, gateway.pod_connect_timeout, gateway.pod_timeout, gateway.pod_connections)
    clients = PodClients(limits)
    lifecycle.on_close(clients.close)
    registry = PodRegistry(db_loader(sessions), clock=clock, ttl=gateway.registry_ttl)
    lifecycle.on_close(registry.close)
    return PodCalls(registry, clients, SessionTokens(load_session(conf, "service_auth")))


def build_worker(
    conf: cfg.ConfigOpts, sessions: async_sessionmaker[AsyncSession], types: JobTypes, clock: Clock
) -> Worker:
    jobs = conf.jobs
    settings = WorkerSettings(jobs.concurrency, jobs.poll_interval, jobs.lease_time)
    retry = RetryPolicy(jobs.max_attempts, jobs.retry_delay, jobs.max_retry_delay)
    return Worker(sessions, types, clock, settings=settings, retry=retry)


def add_workers(
    lifecycle: Lifecycle,
    conf: cfg.ConfigOpts,
    directory: PodDirectory,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
) -> None:
    """Every long-running task of the engine: the periodic tasks, the sync policies' reconcile (under
    its own lock; only when the pods can be reached) and the job worker."""
    calls = build_pod_calls(conf, sessions, lifecycle, clock)
    types = job_types(calls)
    lifecycle.add_worker("periodic", build_runner(conf, directory, clock).run_forever)
    if calls is not None:
        sync = conf.sync
        reconciler = Reconciler(
            sessions, calls, types, clock, interval=sync.policy_interval, concurrency=sync.policy_concurrency
        )
        lifecycle.add_worker("sync_policies", build_reconcile_runner(conf, reconciler, clock).run_forever)
    lifecycle.add_worker("jobs", build_worker(conf, sessions, types, clock).run_forever)
