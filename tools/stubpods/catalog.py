"""The service catalog the stub Keystone puts in every token: each pod a region with compute,
volumev3 + block-storage, image, network, placement and identity; the top region with identity
(and whatever Atoll registers there)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stubpods.identity import stable_id

if TYPE_CHECKING:
    from stubpods.cloud import StubCloud

SERVICE_NAMES = {
    "identity": "keystone",
    "compute": "nova",
    "volumev3": "cinderv3",
    "block-storage": "cinder",
    "image": "glance",
    "network": "neutron",
    "placement": "placement",
}
INTERFACES = ("public", "internal", "admin")


def build(cloud: StubCloud, project_id: str) -> list[dict[str, Any]]:
    by_type: dict[str, list[dict[str, Any]]] = {t: [] for t in SERVICE_NAMES}
    regions: list[tuple[str, dict[str, str]]] = [
        (cloud.config.top_region, {"identity": cloud.auth_url, **cloud.top_endpoints})
    ]
    regions += [(name, {"identity": cloud.auth_url, **pod.endpoints()}) for name, pod in cloud.pods.items()]
    for region, urls in regions:
        for service_type, url in urls.items():
            by_type.setdefault(service_type, [])
            for interface in INTERFACES:
                by_type[service_type].append(
                    {
                        "id": stable_id("endpoint", region, service_type, interface),
                        "interface": interface,
                        "region_id": region,
                        "url": url.replace("%(project_id)s", project_id),
                        "region": region,
                    }
                )
    return [
        {
            "endpoints": endpoints,
            "id": stable_id("service", service_type),
            "type": service_type,
            "name": SERVICE_NAMES.get(service_type, service_type),
        }
        for service_type, endpoints in by_type.items()
        if endpoints
    ]
