"""Version documents at each service's root, as keystoneauth1 discovery reads them
(gateway-protocol.md §1), with self links pointing at Atoll. All are public."""

from __future__ import annotations

from typing import Any

from atoll.gateway.http import Reply, json_reply
from atoll.gateway.services import COMPUTE, IMAGE, NETWORK, VOLUME, Service
from atoll.pods.microversions import VersionRange

GLANCE_CURRENT = 17
"""Glance's CURRENT minor version (v2.17); Atoll lists v2.0..v2.17 as Glance does."""


def _media(service: str, version: str) -> list[dict[str, str]]:
    return [{"base": "application/json", "type": f"application/vnd.openstack.{service}+json;version={version}"}]


def compute_version(root: str, offered: VersionRange) -> dict[str, Any]:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": str(offered.max),
        "min_version": str(offered.min),
        "updated": "2013-07-23T11:33:21Z",
        "links": [
            {"rel": "self", "href": f"{root}/v2.1/"},
            {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
        ],
        "media-types": _media("compute", "2.1"),
    }


def compute_legacy_version(root: str) -> dict[str, Any]:
    """Nova lists its legacy v2.0 API first, and Tempest checks that it does. Atoll lists it the same way
    and serves only v2.1 (v2.0 is v2.1 with looser validation; no client of this decade asks for it)."""
    return {
        "id": "v2.0",
        "status": "SUPPORTED",
        "version": "",
        "min_version": "",
        "updated": "2011-01-21T11:33:21Z",
        "links": [{"rel": "self", "href": f"{root}/v2/"}],
    }


def volume_version(root: str, offered: VersionRange) -> dict[str, Any]:
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": str(offered.max),
        "min_version": str(offered.min),
        "updated": "2023-08-31T00:00:00Z",
        "links": [
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
            {"rel": "self", "href": f"{root}/v3/"},
        ],
        "media-types": _media("volume", "3"),
    }


def image_versions(root: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"v2.{minor}",
            "status": "CURRENT" if minor == GLANCE_CURRENT else "SUPPORTED",
            "links": [{"rel": "self", "href": f"{root}/v2/"}],
        }
        for minor in range(GLANCE_CURRENT, -1, -1)
    ]


def network_versions(root: str) -> list[dict[str, Any]]:
    return [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": f"{root}/v2.0/"}]}]


def root_document(service: Service, root: str, offered: VersionRange | None) -> Reply:
    """GET <prefix>/ : the list of versions."""
    if service is COMPUTE:
        assert offered is not None
        return json_reply(200, {"versions": [compute_legacy_version(root), compute_version(root, offered)]})
    if service is VOLUME:
        assert offered is not None
        return json_reply(300, {"versions": [volume_version(root, offered)]})
    if service is IMAGE:
        return json_reply(300, {"versions": image_versions(root)})
    assert service is NETWORK
    return json_reply(200, {"versions": network_versions(root)})


def version_document(service: Service, root: str, offered: VersionRange | None) -> Reply:
    """GET <prefix><version>/ : the one version (Nova), or the list again (Cinder, Glance /versions)."""
    if service is COMPUTE:
        assert offered is not None
        return json_reply(200, {"version": compute_version(root, offered)})
    if service is VOLUME:
        assert offered is not None
        return json_reply(200, {"versions": [volume_version(root, offered)]})
    assert service is IMAGE
    return json_reply(200, {"versions": image_versions(root)})


def public_paths(service: Service) -> frozenset[str]:
    """Paths of `service` that need no token."""
    paths = {service.prefix, service.prefix + "/"}
    if service is IMAGE:
        paths |= {service.prefix + "/versions"}
    elif service in (COMPUTE, VOLUME):
        paths |= {service.prefix + service.version, service.prefix + service.version + "/"}
    if service is COMPUTE:  # the legacy v2.0 document Nova lists first
        paths |= {service.prefix + "/v2", service.prefix + "/v2/"}
    return frozenset(paths)
