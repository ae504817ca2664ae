"""What the gateway knows of one pod, held in memory: a frozen snapshot of its row plus
the API version ranges read from its services."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping

from atoll.pods.errors import PodServiceMissing
from atoll.pods.microversions import VersionRange
from atoll.types import PodId, PodStatus, RegionName

# Cinder's catalog URL carries `%(project_id)s`, which Keystone fills with the project of
# the token that read the catalog: Atoll's service project. Cinder serves every route
# without it too, so the pod's base URL stops at the version.
_TRAILING_PROJECT = re.compile(r"/(?:[0-9a-f]{32}|%\(project_id\)s|\$\(project_id\)s)/?$")

# The catalog type each service is looked up under, in order of preference.
SERVICE_TYPES: Mapping[str, tuple[str, ...]] = {
    "compute": ("compute",),
    "volume": ("block-storage", "volumev3"),
    "image": ("image",),
    "network": ("network",),
    "placement": ("placement",),
    "identity": ("identity",),
}


@functools.lru_cache(maxsize=4096)  # a handful of catalog URLs, asked on every proxied call
def base_url(url: str) -> str:
    """A catalog URL without a trailing project id and slash."""
    return _TRAILING_PROJECT.sub("", url).rstrip("/")


@dataclasses.dataclass(frozen=True)
class PodInfo:
    pod_id: PodId
    region_name: RegionName
    az_name: str
    pod_az_name: str
    is_top: bool
    endpoints: Mapping[str, str]
    status: PodStatus
    versions: Mapping[str, VersionRange] = dataclasses.field(default_factory=dict)
    """Microversion range of each service that has them ("compute", "volume")."""

    @property
    def is_up(self) -> bool:
        return self.status == PodStatus.UP

    @property
    def name(self) -> str:
        return str(self.region_name)

    def url(self, service: str) -> str:
        """Base URL of `service` ("compute", "volume", "image", "network", ...) in this pod."""
        for catalog_type in SERVICE_TYPES.get(service, (service,)):
            url = self.endpoints.get(catalog_type)
            if url:
                return base_url(url)
        raise PodServiceMissing(self.name, f"Pod {self.name} has no {service} endpoint in the catalog.")

    def has(self, service: str) -> bool:
        return any(self.endpoints.get(t) for t in SERVICE_TYPES.get(service, (service,)))
