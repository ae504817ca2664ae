"""Microversion negotiation as Nova, Cinder and Placement do it (`OpenStack-API-Version`)."""

from __future__ import annotations

import re

from aiohttp import web

from stubpods.config import VersionRange

Version = tuple[int, int]
_FORMAT = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


class VersionError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse(text: str) -> Version:
    match = _FORMAT.match(text.strip())
    if match is None:
        raise VersionError(
            400, f"API Version String {text.strip()} is of invalid format. Must be of format MajorNum.MinorNum."
        )
    return int(match.group(1)), int(match.group(2))


def text(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def requested(request: web.Request, service: str, legacy: str | None = None) -> str | None:
    """The version asked for `service` in OpenStack-API-Version (or the legacy header)."""
    for header in request.headers.getall("OpenStack-API-Version", []):
        for part in header.split(","):
            name, _, value = part.strip().partition(" ")
            if name.lower() == service:
                return value.strip()
    if legacy is not None:
        return request.headers.get(legacy)
    return None


def negotiate(request: web.Request, service: str, supported: VersionRange, legacy: str | None = None) -> Version:
    """The version to answer with; VersionError(406) outside the pod's range, 400 when malformed."""
    low, high = parse(supported.min), parse(supported.max)
    asked = requested(request, service, legacy)
    if asked is None:
        return low
    if asked.strip().lower() == "latest":
        return high
    version = parse(asked)
    if not low <= version <= high:
        raise VersionError(
            406,
            f"Version {asked.strip()} is not supported by the API. Minimum is {supported.min} and maximum is "
            f"{supported.max}.",
        )
    return version


def stamp(response: web.StreamResponse, service: str, version: Version, legacy: str | None = None) -> None:
    response.headers["OpenStack-API-Version"] = f"{service} {text(version)}"
    vary = ["OpenStack-API-Version"]
    if legacy is not None:
        response.headers[legacy] = text(version)
        vary.append(legacy)
    response.headers["Vary"] = ", ".join(vary)
