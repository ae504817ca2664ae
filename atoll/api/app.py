"""The atoll-api ASGI application, built by composition.

RequestIdMiddleware   x-openstack-request-id on every response; 500 fault body on a crash
  AuthMiddleware      X-Auth-Token -> RequestContext (401 otherwise)
    FastAPI routes    versions, /v1.0/pods, /v1.0/bindings, /v1.0/routings, /v1.0/jobs,
                      /v1.0/resources
                      /v1.0/{project_id}/os-sync, /v1.0/sync-policies
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from oslo_config import cfg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.middleware import Middleware

import atoll
from atoll.api import errors
from atoll.api.deps import Services
from atoll.api.routes import bindings, jobs, pods, resources, routings, sync, sync_policies, versions
from atoll.core.tasks import BackgroundTasks
from atoll.inventory import ResourceView
from atoll.jobs.declarations import JobTypes
from atoll.openstack.keystone import TokenValidator
from atoll.pods.directory import PodDirectory
from atoll.policy import Authorizer
from atoll.web.auth import AuthMiddleware, openstack_fault, public_paths
from atoll.web.request_id import RequestIdMiddleware

PUBLIC = public_paths("/", "/v1.0", "/v1.0/", "/openapi.json")
"""What needs no token: the version documents (clients discover versions before they
authenticate) and the OpenAPI schema."""

LOG = logging.getLogger(__name__)

BACKGROUND_LIMIT = 16
"""Pod refreshes running at once off the request path; past that the engine's next turn does them."""


def create_app(
    conf: cfg.ConfigOpts,
    *,
    sessions: async_sessionmaker[AsyncSession],
    validator: TokenValidator,
    directory: PodDirectory | None = None,
    job_types: JobTypes | None = None,
    resource_view: ResourceView | None = None,
    lifespan: contextlib.AbstractAsyncContextManager[object] | None = None,
    authorizer: Authorizer | None = None,
) -> FastAPI:
    """The app; `lifespan` is entered at startup and left at shutdown (the runtime's resources).
    `authorizer` (shared with the gateway) is reloaded while the app runs when its policy files change."""
    www_authenticate = conf.keystone_authtoken.www_authenticate_uri
    authorizer = authorizer or Authorizer(conf)
    background = BackgroundTasks(limit=BACKGROUND_LIMIT, logger=LOG)

    @contextlib.asynccontextmanager
    async def run(_app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if lifespan is not None:
                await stack.enter_async_context(lifespan)
            await stack.enter_async_context(authorizer.watching(conf.api.policy_check_interval))
            try:
                yield
            finally:  # before the lifespan closes the clients they use
                await background.aclose()

    app = FastAPI(
        title="Atoll",
        version=atoll.__version__,
        description="Admin API of Atoll: pods, project bindings, resource routings, jobs and a project's resources.",
        docs_url=None,
        redoc_url=None,
        lifespan=run,
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(
                AuthMiddleware,
                validator=validator,
                is_public=PUBLIC,
                render_fault=openstack_fault,
                www_authenticate_uri=www_authenticate,
            ),
        ],
    )
    app.state.services = Services(
        conf=conf,
        sessions=sessions,
        authorizer=authorizer,
        directory=directory,
        background=background,
        job_types=job_types or JobTypes(),
        resource_view=resource_view,
    )
    errors.install(app)
    for module in (versions, pods, bindings, routings, jobs, resources, sync, sync_policies):
        app.include_router(module.router)
    return app
