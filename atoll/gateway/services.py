"""The OpenStack services the gateway serves, and what differs between them."""

from __future__ import annotations

import dataclasses
import enum


class FaultStyle(enum.Enum):
    NOVA = "nova"  # Nova and Cinder: {"itemNotFound": {"code": 404, "message": ...}}
    NEUTRON = "neutron"  # {"NeutronError": {"type": ..., "message": ..., "detail": ""}}
    GLANCE = "glance"  # webob: {"message": ..., "code": "404 Not Found", "title": "Not Found"}


@dataclasses.dataclass(frozen=True)
class Service:
    name: str
    """Atoll's name of the service; also the `PodInfo.url()` key."""
    prefix: str
    """Where Atoll mounts it, e.g. "/compute"."""
    version: str
    """The versioned path under the prefix, e.g. "/v2.1"."""
    faults: FaultStyle
    microversion: str | None = None
    """The service name in `OpenStack-API-Version` ("compute", "volume"), if it has microversions."""
    legacy_header: str | None = None
    """An older microversion header the service also reads and echoes."""
    default_microversion: str = ""
    project_in_path: bool = False
    """Whether routes may carry the project id after the version (Cinder: /v3/{project_id}/volumes)."""


COMPUTE = Service(
    "compute",
    "/compute",
    "/v2.1",
    FaultStyle.NOVA,
    microversion="compute",
    legacy_header="X-OpenStack-Nova-API-Version",
    default_microversion="2.1",
    project_in_path=True,
)
VOLUME = Service(
    "volume", "/volume", "/v3", FaultStyle.NOVA, microversion="volume", default_microversion="3.0", project_in_path=True
)
IMAGE = Service("image", "/image", "/v2", FaultStyle.GLANCE)
NETWORK = Service("network", "/network", "/v2.0", FaultStyle.NEUTRON)

SERVICES: tuple[Service, ...] = (COMPUTE, VOLUME, IMAGE, NETWORK)


def service_for(path: str) -> Service | None:
    for service in SERVICES:
        if path == service.prefix or path.startswith(service.prefix + "/"):
            return service
    return None
