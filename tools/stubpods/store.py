"""A pod's resources, in memory, and how they are pre-seeded.

Resources are kept as flat dicts in the services' own column names
(`display_name`, `created_at` as an ISO string, `project_id`, ...), which is
what sorting and filtering compare; each service module renders them into
its API's body shape. Seeded resources get stable ids (uuid5 of the cloud
seed, pod, project and index), distinct names and distinct `created_at`
times interleaved across pods, so a merged list sorted by any key has one
right answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from typing import Any

from stubpods.identity import SEEDED_PROJECTS, USERS, Project

EPOCH = dt.datetime(2026, 1, 5, 8, 0, 0, tzinfo=dt.UTC)
"""Seeded resources are created after this instant."""

Record = dict[str, Any]


def iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclasses.dataclass
class ImageData:
    """An image's bytes: a file (uploaded) or a repeated pattern (seeded, never stored)."""

    size: int
    md5: str
    sha512: str
    path: str | None = None
    pattern: bytes = b""


def pattern_data(image_id: str, size: int) -> ImageData:
    block = hashlib.sha512(image_id.encode()).digest() * 64  # 4 KiB
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha512()
    remaining = size
    while remaining:
        chunk = block[: min(remaining, len(block))]
        md5.update(chunk)
        sha.update(chunk)
        remaining -= len(chunk)
    return ImageData(size, md5.hexdigest(), sha.hexdigest(), None, block)


@dataclasses.dataclass
class PodState:
    name: str
    index: int
    az: str
    servers: dict[str, Record] = dataclasses.field(default_factory=dict)
    volumes: dict[str, Record] = dataclasses.field(default_factory=dict)
    images: dict[str, Record] = dataclasses.field(default_factory=dict)
    image_data: dict[str, ImageData] = dataclasses.field(default_factory=dict)
    flavors: dict[str, Record] = dataclasses.field(default_factory=dict)
    keypairs: dict[tuple[str, str], Record] = dataclasses.field(default_factory=dict)
    networks: dict[str, Record] = dataclasses.field(default_factory=dict)
    ports: dict[str, Record] = dataclasses.field(default_factory=dict)
    security_groups: dict[str, Record] = dataclasses.field(default_factory=dict)
    providers: dict[str, Record] = dataclasses.field(default_factory=dict)
    volume_types: dict[str, Record] = dataclasses.field(default_factory=dict)
    generation: int = 0
    """Bumped by every write through the API; cached answers of an older generation are not used."""

    def changed(self) -> None:
        """Call after changing the resources directly (not through the API): remembered answers are stale."""
        self.generation += 1

    @property
    def host(self) -> str:
        return f"{self.name.lower()}-compute"


class Seeder:
    """Fills a pod with the standard objects every pod has and the requested pre-seeded resources."""

    def __init__(self, seed: int, pod_count: int) -> None:
        self.seed = seed
        self.pod_count = max(pod_count, 1)

    def uid(self, *parts: object) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"stubpods/{self.seed}/" + "/".join(map(str, parts))))

    def created(self, state: PodState, project: int, index: int) -> dt.datetime:
        """Distinct across pods and projects: pods interleave minute by minute."""
        step = (index * len(SEEDED_PROJECTS) + project) * self.pod_count + state.index
        return EPOCH + dt.timedelta(seconds=37 * step)

    def fill(self, state: PodState, servers: int, volumes: int, images: int, networks: int) -> None:
        from stubpods import seeds

        seeds.standard(self, state)
        for p, project in enumerate(SEEDED_PROJECTS):
            user = next(u for u in USERS.values() if u.project == project)
            for i in range(networks):
                seeds.network(self, state, project, p, i)
            for i in range(servers):
                seeds.server(self, state, project, user.id, p, i)
            for i in range(volumes):
                seeds.volume(self, state, project, user.id, p, i)
            for i in range(images):
                seeds.image(self, state, project, p, i)


__all__ = ["Project"]
