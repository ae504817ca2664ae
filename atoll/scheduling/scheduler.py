"""Choosing the pod of a new resource (design.md: AZ -> pods -> project binding -> weigher).

requested AZ (or every AZ)
  -> its pods
  -> the project's active binding among them: that pod, or 503 naming the AZ if it is down
  -> else the healthy pods, weighed; the best one, and a binding recorded for next time
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.errors import BadRequest, Conflict, ServiceUnavailable
from atoll.db import bindings as bindings_db
from atoll.pods.info import PodInfo
from atoll.pods.registry import PodSnapshot
from atoll.scheduling.weigher import Weigher
from atoll.types import ProjectId

LOG = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], weigher: Weigher) -> None:
        self._sessions = sessions
        self._weigher = weigher

    @staticmethod
    def candidates(snapshot: PodSnapshot, az: str | None) -> tuple[PodInfo, ...]:
        """The pods of `az` (every bottom pod when None); 400 for an AZ Atoll does not have."""
        if az is None:
            return snapshot.bottoms
        pods = snapshot.azs().get(az)
        if not pods:
            raise BadRequest("The requested availability zone is not available")
        return pods

    async def choose(self, snapshot: PodSnapshot, project: ProjectId, az: str | None) -> PodInfo:
        pods = self.candidates(snapshot, az)
        bound = await self._bound(project, pods)
        if bound is not None:
            if not bound.is_up:
                raise ServiceUnavailable(
                    f"Availability zone {bound.az_name} is not available now: the pod this project's "
                    "resources there live in does not answer. Try again later or choose another zone."
                )
            return bound
        healthy = [p for p in pods if p.is_up]
        if not healthy:
            where = f"availability zone {az}" if az else "any availability zone"
            raise ServiceUnavailable(f"No pod of {where} is available now. Try again later.")
        weights = await self._weigher.weigh(healthy)
        best = max(range(len(healthy)), key=lambda i: (weights[i], -i))
        chosen = healthy[best]
        await self._bind(project, chosen)
        # Two first creates of a project may race and bind it to two pods of the AZ: both
        # then go with the earliest binding, so the project's resources stay together.
        settled = await self._bound(project, pods)
        return settled if settled is not None and settled.is_up else chosen

    async def _bound(self, project: ProjectId, pods: Sequence[PodInfo]) -> PodInfo | None:
        by_id: dict[str, PodInfo] = {p.pod_id: p for p in pods}
        async with self._sessions() as session:
            bound = await bindings_db.bound_pods(session, project)
        return next((by_id[pod_id] for pod_id in bound if pod_id in by_id), None)

    async def _bind(self, project: ProjectId, pod: PodInfo) -> None:
        try:
            async with self._sessions.begin() as session:
                await bindings_db.create(session, tenant_id=project, pod_id=pod.pod_id)
        except Conflict:
            LOG.debug("Project %s was bound to pod %s concurrently", project, pod.name)
