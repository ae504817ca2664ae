from __future__ import annotations

from typing import Any

from keystoneauth1 import access

from atoll.openstack.catalog import POD_SERVICE_TYPES, endpoints_for_region


def _endpoints(service: str, port: int, path: str = "") -> list[dict[str, Any]]:
    rows = []
    for region, host in (("RegionOne", "top.example"), ("Pod1", "pod1.example")):
        for interface in ("public", "internal"):
            scheme_host = f"https://{host}" if interface == "public" else f"http://{host}.internal"
            rows.append(
                {
                    "id": f"{service}-{region}-{interface}",
                    "interface": interface,
                    "region": region,
                    "region_id": region,
                    "url": f"{scheme_host}:{port}{path}",
                }
            )
    return rows


def _token_body() -> dict[str, Any]:
    catalog = [
        {"id": "s1", "type": "identity", "name": "keystone", "endpoints": _endpoints("keystone", 5000, "/v3")},
        {"id": "s2", "type": "compute", "name": "nova", "endpoints": _endpoints("nova", 8774, "/v2.1")},
        {"id": "s3", "type": "network", "name": "neutron", "endpoints": _endpoints("neutron", 9696)},
        {
            "id": "s4",
            "type": "volumev3",
            "name": "cinderv3",
            "endpoints": _endpoints("cinder", 8776, "/v3/$(project_id)s"),
        },
        # an image service only in the top region
        {
            "id": "s5",
            "type": "image",
            "name": "glance",
            "endpoints": [e for e in _endpoints("glance", 9292) if e["region"] == "RegionOne"],
        },
        {"id": "s6", "type": "metric", "name": "gnocchi", "endpoints": _endpoints("gnocchi", 8041)},
    ]
    return {
        "token": {
            "methods": ["password"],
            "user": {"id": "u", "name": "atoll", "domain": {"id": "default", "name": "Default"}},
            "project": {"id": "p", "name": "service", "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "r", "name": "admin"}],
            "expires_at": "2030-01-01T00:00:00.000000Z",
            "issued_at": "2026-01-01T00:00:00.000000Z",
            "catalog": catalog,
        }
    }


def _catalog() -> Any:
    return access.create(body=_token_body(), auth_token="service-token").service_catalog


def test_endpoints_of_a_pod_for_the_public_interface() -> None:
    assert endpoints_for_region(_catalog(), "Pod1", "public") == {
        "identity": "https://pod1.example:5000/v3",
        "compute": "https://pod1.example:8774/v2.1",
        "network": "https://pod1.example:9696",
        "volumev3": "https://pod1.example:8776/v3/$(project_id)s",
    }


def test_endpoints_of_the_top_region_for_the_internal_interface() -> None:
    found = endpoints_for_region(_catalog(), "RegionOne", "internal")
    assert found["image"] == "http://top.example.internal:9292"
    assert found["compute"] == "http://top.example.internal:8774/v2.1"
    assert set(found) == {"identity", "compute", "network", "volumev3", "image"}


def test_only_the_wanted_service_types() -> None:
    assert "metric" not in POD_SERVICE_TYPES
    assert endpoints_for_region(_catalog(), "Pod1", "public", ["network", "metric"]) == {
        "network": "https://pod1.example:9696",
        "metric": "https://pod1.example:8041",
    }
    assert endpoints_for_region(_catalog(), "Pod1", "public", ["placement"]) == {}


def test_unknown_region_or_interface_has_no_endpoints() -> None:
    assert endpoints_for_region(_catalog(), "Pod9", "public") == {}
    assert endpoints_for_region(_catalog(), "Pod1", "admin") == {}
