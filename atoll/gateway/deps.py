"""What the gateway's handlers work with, built once per process."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from oslo_config import cfg

from atoll.gateway.names import TopNames
from atoll.gateway.proxy import Forwarder
from atoll.jobs.declarations import JobTypes
from atoll.jobs.enqueue import NewJob
from atoll.pods.info import PodInfo
from atoll.pods.registry import PodRegistry, PodSnapshot
from atoll.policy import Authorizer
from atoll.routing.store import RoutingStore
from atoll.scheduling.scheduler import Scheduler
from atoll.sync.calls import PodCalls
from atoll.types import JobId, PodId, PodStatus, RegionName

Enqueue = Callable[[NewJob], Awaitable[JobId]]


class VolumeTypeNames(Protocol):
    """The name of the volume type Atoll shows under an id (`volume.types.TypeIds`), for the calls of
    other services that name one (a server's block device mapping)."""

    async def name_of(self, request: Any, type_id: str) -> str | None: ...


@dataclasses.dataclass
class Gateway:
    conf: cfg.ConfigOpts
    registry: PodRegistry
    forwarder: Forwarder
    routings: RoutingStore
    scheduler: Scheduler
    calls: PodCalls | None = None
    """Calls to pods on Atoll's `[service_auth]` token (copies of images between pods); None without it."""
    jobs: JobTypes | None = None
    """The job types this process may enqueue (an image copied to pods by a job)."""
    enqueue: Enqueue | None = None
    """Writes a job in its own transaction."""
    authorizer: Authorizer | None = None
    """Atoll's own policy rules, for the decisions the gateway makes itself (not the pods')."""
    pod_zones: dict[tuple[PodId, str], str] = dataclasses.field(default_factory=dict)
    """Each pod's own compute AZ name as its Nova lists it, by pod and compute URL (`compute.zones`)."""
    top_names: TopNames = dataclasses.field(default_factory=lambda: TopNames(ttl=0.0))
    """The top networks' and security groups' names server documents show, kept a while (`names`)."""
    volume_type_names: VolumeTypeNames | None = None
    """Set by the volume router: its table of Atoll's volume type ids."""
    _central: tuple[str, PodInfo] | None = dataclasses.field(default=None, init=False, repr=False)

    async def pods(self) -> PodSnapshot:
        return await self.registry.snapshot()

    @property
    def list_timeout(self) -> float:
        return float(self.conf.gateway.list_timeout)

    def central_neutron(self) -> PodInfo | None:
        """The top region's real Neutron, as a pod the forwarder can call."""
        url = self.conf.gateway.central_neutron_url
        if not url:
            return None
        if self._central is not None and self._central[0] == url:
            return self._central[1]
        pod = PodInfo(
            pod_id=PodId("central-neutron"),
            region_name=RegionName("central Neutron"),
            az_name="",
            pod_az_name="",
            is_top=True,
            endpoints={"network": url},
            status=PodStatus.UP,
        )
        self._central = (url, pod)
        return pod
