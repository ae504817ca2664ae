"""What a stub cloud looks like: its pods, their latency, seeded data, microversions and failures."""

from __future__ import annotations

import dataclasses
import enum


class FailureMode(enum.StrEnum):
    DOWN = "down"
    """The pod's port refuses connections; open connections are cut."""
    HANG = "hang"
    """Requests are accepted and never answered (until the failure is cleared)."""
    ERROR = "error"
    """Every request is answered with `status` and the service's own error body."""


@dataclasses.dataclass(frozen=True)
class Failure:
    mode: FailureMode
    status: int = 503
    """The status of an ERROR failure (500 or 503 are the usual ones)."""
    services: frozenset[str] = frozenset()
    """The services that fail (compute, volume, image, network, placement); empty means all of them.
    DOWN always takes the whole pod: its services share one port."""

    def hits(self, service: str) -> bool:
        return self.mode == FailureMode.DOWN or not self.services or service in self.services

    @classmethod
    def parse(cls, text: str) -> Failure:
        """`down`, `hang`, `error`, `error:500`, `hang@compute,volume`, `error:503@image`."""
        spec, _, services = text.partition("@")
        mode, _, status = spec.partition(":")
        return cls(
            FailureMode(mode),
            int(status) if status else 503,
            frozenset(s for s in services.split(",") if s),
        )


@dataclasses.dataclass(frozen=True)
class VersionRange:
    min: str
    max: str

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        low, _, high = text.partition("-")
        return cls(low, high or low)


# What the test bed's services report (nova 34.0.0, cinder 29.0.0, placement 16.0.0; see recorded/).
COMPUTE_VERSIONS = VersionRange("2.1", "2.104")
VOLUME_VERSIONS = VersionRange("3.0", "3.71")
PLACEMENT_VERSIONS = VersionRange("1.0", "1.39")


@dataclasses.dataclass
class PodConfig:
    name: str
    latency_ms: float = 0.0
    """Added before every answer of the pod's services (not Keystone's)."""
    jitter_ms: float = 0.0
    """A uniformly random extra delay in [0, jitter_ms) on top of `latency_ms`."""
    servers: int = 0
    """Servers pre-seeded in each project of the cloud; likewise volumes, images (private) and networks."""
    volumes: int = 0
    images: int = 0
    networks: int = 0
    compute_versions: VersionRange = COMPUTE_VERSIONS
    volume_versions: VersionRange = VOLUME_VERSIONS
    placement_versions: VersionRange = PLACEMENT_VERSIONS
    failure: Failure | None = None
    port: int = 0
    """0 picks a free port."""
    az: str = "nova"
    """The pod's own availability zone name, as its Nova and Cinder report it."""


@dataclasses.dataclass
class CloudConfig:
    pods: list[PodConfig]
    host: str = "127.0.0.1"
    keystone_port: int = 0
    top_region: str = "RegionOne"
    keystone_latency_ms: float = 0.0
    token_ttl: float = 3600.0
    seed: int = 0
    """Seeds the ids, names and times of pre-seeded resources and the jitter."""

    @classmethod
    def uniform(cls, count: int, *, base_port: int = 0, **pod_options: object) -> CloudConfig:
        """`count` identical pods Pod1..PodN (ports base_port+1.. when base_port is set)."""
        pods = [
            PodConfig(name=f"Pod{i}", port=base_port + i if base_port else 0, **pod_options)  # type: ignore[arg-type]
            for i in range(1, count + 1)
        ]
        return cls(pods=pods, keystone_port=base_port)
