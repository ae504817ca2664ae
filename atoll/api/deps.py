"""What route handlers receive: the caller's context and the app's services."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from oslo_config import cfg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.context import RequestContext
from atoll.core.errors import InvalidInput, Unauthorized
from atoll.core.tasks import BackgroundTasks
from atoll.inventory import ResourceView
from atoll.jobs.declarations import JobTypes
from atoll.pods.directory import PodDirectory
from atoll.policy import Authorizer


@dataclasses.dataclass
class Services:
    conf: cfg.ConfigOpts
    sessions: async_sessionmaker[AsyncSession]
    authorizer: Authorizer
    directory: PodDirectory | None
    background: BackgroundTasks
    job_types: JobTypes = dataclasses.field(default_factory=JobTypes)
    resource_view: ResourceView | None = None
    """The global view of a project's resources; None without service credentials."""


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _context(request: Request) -> RequestContext:
    context = getattr(request.state, "context", None)
    if not isinstance(context, RequestContext):
        raise Unauthorized("The request you have made requires authentication.")
    return context


def only_query_params(*allowed: str) -> Any:
    """A dependency rejecting query parameters a route does not know (400, never ignored)."""
    known = frozenset(allowed)

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise InvalidInput(f"Unknown query parameter(s): {', '.join(unknown)}.")

    return Depends(check)


ServicesDep = Annotated[Services, Depends(_services)]
ContextDep = Annotated[RequestContext, Depends(_context)]


_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
IdPath = Annotated[str, Path(max_length=255, pattern=_PRINTABLE)]
"""A string id in a URL path: bounded and free of control characters (which PostgreSQL refuses)."""
IntIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
FilterQuery = Annotated[str | None, Query(max_length=255, pattern=_PRINTABLE)]
