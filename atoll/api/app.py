"""The atoll-api ASGI application, built by composition.

RequestIdMiddleware   x-openstack-request-id on every response; 500 fault body on a crash
  AuthMiddleware      X-Auth-Token -> RequestContext (401 otherwise)
    FastAPI routes    versions, /v1.0/pods, /v1.0/bindings, /v1.0/routings
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from oslo_config import cfg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.middleware import Middleware

import atoll
from atoll.api import errors
from atoll.api.deps import Services
from atoll.api.middleware.auth import AuthMiddleware
from atoll.api.middleware.request_id import RequestIdMiddleware
from atoll.api.routes import bindings, pods, routings, versions
from atoll.openstack.keystone import TokenValidator
from atoll.pods.directory import PodDirectory
from atoll.policy import Authorizer


def create_app(
    conf: cfg.ConfigOpts,
    *,
    sessions: async_sessionmaker[AsyncSession],
    validator: TokenValidator,
    directory: PodDirectory | None = None,
    lifespan: contextlib.AbstractAsyncContextManager[None] | None = None,
) -> FastAPI:
    www_authenticate = conf.keystone_authtoken.www_authenticate_uri

    @contextlib.asynccontextmanager
    async def run(_app: FastAPI) -> AsyncIterator[None]:
        if lifespan is None:
            yield
            return
        async with lifespan:
            yield

    app = FastAPI(
        title="Atoll",
        version=atoll.__version__,
        description="Admin API of Atoll: pods, project bindings and resource routings.",
        docs_url=None,
        redoc_url=None,
        lifespan=run,
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(AuthMiddleware, validator=validator, www_authenticate_uri=www_authenticate),
        ],
    )
    app.state.services = Services(
        conf=conf,
        sessions=sessions,
        authorizer=Authorizer(conf),
        directory=directory,
        discovery_timeout=conf.engine.probe_timeout + 10.0,
    )
    errors.install(app)
    for module in (versions, pods, bindings, routings):
        app.include_router(module.router)
    return app


def default_http_client(timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False)
