"""Version documents as the real services serve them at their roots (trimmed), for fake pods.

Taken from the test bed's Nova, Cinder, Glance, Neutron, Placement and Keystone.
"""

from __future__ import annotations

from typing import Any


def _link(href: str) -> list[dict[str, str]]:
    return [{"rel": "self", "href": href}]


NOVA: dict[str, Any] = {
    "versions": [
        {"id": "v2.0", "status": "DEPRECATED", "version": "", "min_version": "", "links": _link("http://h/v2/")},
        {"id": "v2.1", "status": "CURRENT", "version": "2.96", "min_version": "2.1", "links": _link("http://h/v2.1/")},
    ]
}
CINDER: dict[str, Any] = {
    "versions": [
        {
            "id": "v3.0",
            "status": "CURRENT",
            "version": "3.71",
            "min_version": "3.0",
            "links": _link("http://h/v3/"),
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}],
        }
    ]
}
GLANCE: dict[str, Any] = {
    "versions": [
        {"id": f"v2.{minor}", "status": "CURRENT" if minor == 17 else "SUPPORTED", "links": _link("http://h/v2/")}
        for minor in range(17, -1, -1)
    ]
}
NEUTRON: dict[str, Any] = {"versions": [{"id": "v2.0", "status": "CURRENT", "links": _link("http://h/v2.0/")}]}
PLACEMENT: dict[str, Any] = {
    "versions": [{"id": "v1.0", "max_version": "1.39", "min_version": "1.0", "status": "CURRENT", "links": []}]
}
KEYSTONE: dict[str, Any] = {
    "versions": {
        "values": [
            {
                "id": "v3.14",
                "status": "stable",
                "links": _link("http://h/v3/"),
                "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
            }
        ]
    }
}

BY_SERVICE: dict[str, dict[str, Any]] = {
    "compute": NOVA,
    "volumev3": CINDER,
    "block-storage": CINDER,
    "image": GLANCE,
    "network": NEUTRON,
    "placement": PLACEMENT,
    "identity": KEYSTONE,
}
ROOT_STATUS = {"compute": 200, "network": 200, "placement": 200, "volumev3": 300, "image": 300, "identity": 300}
