"""What each OpenStack service's version document looks like, to tell a real endpoint from a wrong one.

Every OpenStack API serves its versions at its root without a token (Nova
and Neutron with 200, Cinder, Glance and Keystone with 300), in one of three
shapes: ``{"versions": [...]}``, ``{"versions": {"values": [...]}}`` (Keystone)
or ``{"version": {...}}``. Each service's entries are distinct enough to
name the service:

    compute      Nova       v2.1 with a microversion range (min_version 2.1)
    volume       Cinder     v3.0 with a microversion range (min_version 3.0)
    image        Glance     v2.0 ... v2.N, no microversion range
    network      Neutron    v2.0 alone
    placement    Placement  v1.0 with max_version
    identity     Keystone   media type application/vnd.openstack.identity-v3+json

(see shared/reference/gateway-protocol.md §1; checked against the test bed's
real services).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

Entry = Mapping[str, Any]

_PROJECT_SEGMENT = re.compile(r"^(?:[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|[%$]\(\w+\)s)$")
_VERSION_SEGMENT = re.compile(r"^v\d+(?:\.\d+)?$")
_MINOR_OF_2 = re.compile(r"^v2\.\d+$")


def version_root(url: str) -> str:
    """The service root of a catalog URL: without its trailing project id and API version.

    `http://h/volume/v3/4f1c...` -> `http://h/volume/`; `http://h:8774/v2.1` -> `http://h:8774/`.
    keystoneauth's discovery drops the same segments; it is not used here
    because it is synchronous, needs a session and does not check which
    service answered.
    """
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if segments and _PROJECT_SEGMENT.match(segments[-1]):
        segments.pop()
    if segments and _VERSION_SEGMENT.match(segments[-1]):
        segments.pop()
    path = "/" + "".join(f"{s}/" for s in segments)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def entries(document: object) -> list[Entry]:
    """The version entries of a version document; [] when it is not one."""
    if not isinstance(document, Mapping):
        return []
    versions = document.get("versions", document.get("version"))
    if isinstance(versions, Mapping):
        versions = versions.get("values", [versions])
    if not isinstance(versions, list):
        return []
    return [v for v in versions if isinstance(v, Mapping) and isinstance(v.get("id"), str)]


def _microversions(entry: Entry, major: str) -> bool:
    return str(entry.get("min_version") or "").startswith(f"{major}.")


def _compute(found: list[Entry]) -> bool:
    return any(e["id"] == "v2.1" and _microversions(e, "2") for e in found)


def _volume(found: list[Entry]) -> bool:
    return any(e["id"].startswith("v3") and _microversions(e, "3") for e in found)


def _image(found: list[Entry]) -> bool:
    ids = {e["id"] for e in found}
    no_ranges = not any("min_version" in e or "max_version" in e for e in found)
    return no_ranges and "v2.0" in ids and any(_MINOR_OF_2.match(i) and i != "v2.0" for i in ids)


def _network(found: list[Entry]) -> bool:
    return {e["id"] for e in found} == {"v2.0"} and not any("min_version" in e for e in found)


def _placement(found: list[Entry]) -> bool:
    return any(e["id"] == "v1.0" and "max_version" in e for e in found)


def _identity(found: list[Entry]) -> bool:
    return any("identity" in str(m.get("type", "")) for e in found for m in _media_types(e))


def _media_types(entry: Entry) -> list[Mapping[str, Any]]:
    types = entry.get("media-types")
    return [m for m in types if isinstance(m, Mapping)] if isinstance(types, list) else []


SIGNATURES: dict[str, Callable[[list[Entry]], bool]] = {
    "compute": _compute,
    "volumev3": _volume,
    "block-storage": _volume,
    "volume": _volume,
    "image": _image,
    "network": _network,
    "placement": _placement,
    "identity": _identity,
}
"""Catalog service type -> does a version document's entries show that service."""


def serves(service_type: str, found: list[Entry]) -> bool:
    """Whether `found` is `service_type`'s version document (any version document for a type not known here)."""
    signature = SIGNATURES.get(service_type)
    return bool(found) if signature is None else signature(found)


def looks_like(found: list[Entry]) -> str | None:
    """The service type whose version document `found` is, when one matches."""
    return next((name for name, signature in SIGNATURES.items() if signature(found)), None)
