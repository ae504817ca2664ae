"""Pods' URLs never reach users: links, `Location` and next links are rewritten to Atoll's.

A pod service's *root* is its catalog URL without the version segment
(`http://10.0.0.5:8774/v2.1` -> `http://10.0.0.5:8774`; DevStack's
`http://10.0.0.5/compute/v2.1` -> `http://10.0.0.5/compute`; Glance's catalog URL has
no version). Nova's self links live under the root plus version, its bookmark links
under the root itself, so replacing each pod root with Atoll's root of the same
service rewrites both, and the image links Nova writes with Glance's root too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from atoll.pods.info import PodInfo

_VERSION_SEGMENT = re.compile(r"/v\d+(?:\.\d+)?$")


@functools.lru_cache(maxsize=4096)  # a handful of pod URLs, asked on every proxied call
def service_root(url: str) -> str:
    return _VERSION_SEGMENT.sub("", url.rstrip("/"))


class Rewriter:
    """Replaces pod roots with Atoll's roots in bodies and headers."""

    def __init__(self, pairs: Mapping[str, str]) -> None:
        # Longest first, so a root that is a prefix of another cannot cut it short;
        # each root only where a path or the string ends after it.
        ordered = sorted(pairs.items(), key=lambda kv: len(kv[0]), reverse=True)
        self._pairs = [
            (f"{old}{end}".encode(), f"{new}{end}".encode()) for old, new in ordered if old != new for end in ("/", '"')
        ]

    def body(self, data: bytes) -> bytes:
        for old, new in self._pairs:
            if old in data:
                data = data.replace(old, new)
        return data

    def url(self, value: str) -> str:
        closed = self.body(f'{value}"'.encode()).decode()
        return closed[:-1]


def pod_pairs(pod: PodInfo, atoll_roots: Mapping[str, str], services: Iterable[str]) -> dict[str, str]:
    """Each of the pod's service roots -> Atoll's root of the same service."""
    pairs: dict[str, str] = {}
    for service in services:
        if pod.has(service) and service in atoll_roots:
            pairs[service_root(pod.url(service))] = atoll_roots[service]
    return pairs
