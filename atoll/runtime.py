"""Builds a running Atoll (admin API, OpenStack API gateway, in-process engine) from configuration."""

from __future__ import annotations

from oslo_config import cfg
from starlette.types import ASGIApp

from atoll.api.app import create_app
from atoll.core.clock import SystemClock
from atoll.db.engine import create_engine, session_factory
from atoll.engine.lifecycle import Lifecycle
from atoll.engine.service import add_workers, build_directory, has_service_auth, job_types
from atoll.gateway.build import MOUNTS, GatewayParts, build_gateway, pod_limits
from atoll.inventory import ResourceView
from atoll.openstack.http import http_client, probe_client
from atoll.openstack.keystone import KeystoneTokenValidator
from atoll.openstack.session import SessionTokens, identity_url, load_session
from atoll.pods.pool import PodClients
from atoll.policy import Authorizer
from atoll.scheduling.weigher import EvenWeigher, PlacementWeigher, Weigher
from atoll.web.dispatch import PrefixDispatcher
from atoll.web.invalidate import InvalidateOnWrite


def build_weigher(conf: cfg.ConfigOpts, clients: PodClients) -> Weigher:
    """Placement capacity with Atoll's service token; every pod alike without service credentials."""
    if not has_service_auth(conf):
        return EvenWeigher()
    tokens = SessionTokens(load_session(conf, "service_auth"))
    return PlacementWeigher(clients, tokens, cache_time=conf.gateway.capacity_cache_time)


def build_resource_view(conf: cfg.ConfigOpts, parts: GatewayParts) -> ResourceView | None:
    """The global view of a project's resources: pods are listed with Atoll's service token."""
    if not has_service_auth(conf):
        return None
    return ResourceView(
        parts.gateway.registry,
        parts.clients,
        SessionTokens(load_session(conf, "service_auth")),
        timeout=conf.gateway.list_timeout,
        max_limit=conf.api.max_limit,
        central_neutron_url=conf.gateway.central_neutron_url,
    )


def build_api(conf: cfg.ConfigOpts) -> ASGIApp:
    """The app; its lifespan runs the in-process engine (`[api] run_engine`) and closes every resource."""
    lifecycle = Lifecycle()
    engine = create_engine(
        conf.database.connection, pool_size=conf.database.max_pool_size, echo=conf.database.connection_debug
    )
    lifecycle.on_close(engine.dispose)
    client = http_client(conf.keystone_authtoken.http_timeout)
    lifecycle.on_close(client.aclose)
    sessions = session_factory(engine)
    clock = SystemClock()
    keystone = load_session(conf, "keystone_authtoken")
    validator = KeystoneTokenValidator(
        identity_url=identity_url(keystone),
        service_token=SessionTokens(keystone),
        client=client,
        cache_ttl=conf.keystone_authtoken.token_cache_time,
        cache_size=conf.keystone_authtoken.token_cache_size,
        negative_cache_size=conf.keystone_authtoken.token_negative_cache_size,
        clock=clock,
    )
    probes = probe_client(conf.engine.probe_timeout, conf.engine.probe_connections)
    lifecycle.on_close(probes.aclose)
    directory = build_directory(conf, sessions, probes, clock)
    if conf.api.run_engine:
        add_workers(lifecycle, conf, directory, sessions, clock)
    clients = PodClients(pod_limits(conf))
    service_tokens = SessionTokens(load_session(conf, "service_auth")) if has_service_auth(conf) else None
    authorizer = Authorizer(conf)  # one policy for the gateway and the admin API, reloaded by the latter
    gateway = build_gateway(
        conf,
        sessions=sessions,
        validator=validator,
        weigher=build_weigher(conf, clients),
        clients=clients,
        service_tokens=service_tokens,
        authorizer=authorizer,
    )
    lifecycle.on_close(gateway.close)
    admin = create_app(
        conf,
        sessions=sessions,
        validator=validator,
        directory=directory,
        job_types=job_types(),
        resource_view=build_resource_view(conf, gateway),
        lifespan=lifecycle,
        authorizer=authorizer,
    )
    watched = InvalidateOnWrite(admin, "/v1.0/pods", gateway.gateway.registry.invalidate)
    return PrefixDispatcher(watched, [(prefix, gateway.app) for prefix in MOUNTS])
