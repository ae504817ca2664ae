"""Builds a running Atoll (API app, in-process engine) from configuration."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from oslo_config import cfg

from atoll.api.app import create_app, default_http_client
from atoll.core.clock import SystemClock
from atoll.db.engine import create_engine, session_factory
from atoll.engine.service import build_directory, build_runner
from atoll.openstack.keystone import KeystoneTokenValidator
from atoll.openstack.session import SessionTokens, identity_url, load_session


def build_api(conf: cfg.ConfigOpts) -> FastAPI:
    engine = create_engine(
        conf.database.connection, pool_size=conf.database.max_pool_size, echo=conf.database.connection_debug
    )
    sessions = session_factory(engine)
    clock = SystemClock()
    client = default_http_client(conf.keystone_authtoken.http_timeout)
    keystone = load_session(conf, "keystone_authtoken")
    validator = KeystoneTokenValidator(
        identity_url=identity_url(keystone),
        service_token=SessionTokens(keystone),
        client=client,
        cache_ttl=conf.keystone_authtoken.token_cache_time,
        cache_size=conf.keystone_authtoken.token_cache_size,
        clock=clock,
    )
    directory = build_directory(conf, sessions, client, clock)

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = None
        if conf.api.run_engine:
            task = asyncio.create_task(build_runner(conf, directory, clock).run_forever(stop))
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            await client.aclose()
            await engine.dispose()

    return create_app(conf, sessions=sessions, validator=validator, directory=directory, lifespan=lifespan())
