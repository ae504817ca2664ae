"""Microversion negotiation (gateway-protocol.md §2).

Atoll advertises, per service, the range every healthy pod supports (the max of the
pods' mins to the min of their maxes), resolves `latest` to that max before
forwarding, and sends the negotiated version to the pod in both Nova headers, so a
call means the same thing whichever pod serves it. No header means the service's
base version (2.1, 3.0), as the services themselves do.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from atoll.core.errors import AtollError, BadRequest
from atoll.gateway.services import Service
from atoll.pods.info import PodInfo
from atoll.pods.microversions import APIVersion, VersionRange, intersect

HEADER = "OpenStack-API-Version"


class NotAcceptable(AtollError):
    status = 406
    fault = "notAcceptable"


@functools.lru_cache(maxsize=8)
def _base(text: str) -> APIVersion:
    return APIVersion.parse(text)


def advertised(service: Service, pods: Iterable[PodInfo]) -> VersionRange:
    """What Atoll offers of `service`: the intersection over the up pods that report a range."""
    assert service.microversion is not None
    base = _base(service.default_microversion)
    ranges = [p.versions[service.name] for p in pods if p.is_up and not p.is_top and service.name in p.versions]
    return intersect(ranges) or VersionRange(base, base)


def requested(service: Service, headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The version asked for: `OpenStack-API-Version: <service> X` wins over the legacy header."""
    legacy = None
    wanted_legacy = service.legacy_header.lower().encode() if service.legacy_header else None
    for name, value in headers:
        if name == b"openstack-api-version":
            for part in value.decode("latin-1").split(","):
                words = part.split()
                if len(words) == 2 and words[0].lower() == service.microversion:
                    return words[1]
        elif wanted_legacy is not None and name == wanted_legacy:
            legacy = value.decode("latin-1").strip()
    return legacy


def negotiate(service: Service, asked: str | None, offered: VersionRange) -> APIVersion:
    if asked is None:
        return _base(service.default_microversion)
    if asked.lower() == "latest":
        return offered.max
    try:
        version = APIVersion.parse(asked)
    except ValueError as error:
        raise BadRequest(
            f"API Version String {asked} is of invalid format. Must be of format MajorNum.MinorNum."
        ) from error
    if version not in offered:
        raise NotAcceptable(
            f"Version {version} is not supported by the API. Minimum is {offered.min} and maximum is {offered.max}."
        )
    return version


def pod_headers(service: Service, version: APIVersion) -> dict[str, str]:
    """What the pod is sent: the version, explicitly, in every header the service reads."""
    return dict(_pod_headers(service.microversion, service.legacy_header, version))


def echo_headers(service: Service, version: APIVersion) -> list[tuple[bytes, bytes]]:
    """The headers the service answers with, for replies Atoll composes itself."""
    return list(_echo_headers(service.microversion, service.legacy_header, version))


# Every proxied call needs these; the few (service, version) pairs in use are built once.
@functools.lru_cache(maxsize=256)
def _pod_headers(name: str | None, legacy: str | None, version: APIVersion) -> tuple[tuple[str, str], ...]:
    headers = [(HEADER, f"{name} {version}")]
    if legacy:
        headers.append((legacy, str(version)))
    return tuple(headers)


@functools.lru_cache(maxsize=256)
def _echo_headers(name: str | None, legacy: str | None, version: APIVersion) -> tuple[tuple[bytes, bytes], ...]:
    pairs = [(k.lower().encode(), v.encode()) for k, v in _pod_headers(name, legacy, version)]
    vary = ", ".join([HEADER, *([legacy] if legacy else [])])
    return (*pairs, (b"vary", vary.encode()))
