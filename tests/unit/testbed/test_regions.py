"""What each region runs, how it is registered in the catalog and in Atoll."""

from __future__ import annotations

import pathlib

from testbed import atoll, identity, regions
from testbed.layout import ATOLL_PORT, Layout


def test_a_pod_runs_ten_processes_and_the_top_region_one(tmp_path: pathlib.Path) -> None:
    layout = Layout(state=tmp_path, base_port=27000)
    top, pod1 = layout.regions(1)
    assert [(s.name, s.port, s.api) for s in regions.services(layout, top)] == [("top-neutron-api", 27096, True)]
    services = regions.services(layout, pod1)
    assert [(s.name, s.port) for s in services] == [
        ("pod1-neutron-api", 27196),
        ("pod1-placement-api", 27178),
        ("pod1-nova-api", 27174),
        ("pod1-nova-conductor", None),
        ("pod1-nova-scheduler", None),
        ("pod1-nova-compute", None),
        ("pod1-cinder-api", 27176),
        ("pod1-cinder-scheduler", None),
        ("pod1-cinder-volume", None),
        ("pod1-glance-api", 27192),
    ]
    nova_api = services[2]
    assert nova_api.health == "http://127.0.0.1:27174/"
    assert nova_api.env["OS_NOVA_CONFIG_DIR"] == str(tmp_path / "regions/pod1/etc/nova")
    assert nova_api.env["TB_WSGI_TARGET"] == "nova.wsgi.osapi_compute:application"
    assert "--bind" in nova_api.argv
    assert nova_api.argv[nova_api.argv.index("--bind") + 1] == "127.0.0.1:27174"
    compute = services[5]
    assert compute.argv[1:] == [
        "--config-file",
        str(tmp_path / "regions/pod1/etc/nova/nova.conf"),
        "--log-file",
        str(tmp_path / "logs/pod1-nova-compute.log"),
    ]
    assert not compute.api


def test_catalog_of_a_pod_and_of_the_top_region(tmp_path: pathlib.Path) -> None:
    layout = Layout(state=tmp_path)
    top, pod1 = layout.regions(1)
    assert [(e.service_type, e.url) for e in identity.region_catalog(layout, top)] == [
        ("identity", "http://127.0.0.1:25000/v3"),
        ("network", "http://127.0.0.1:25096"),
    ]
    assert {(e.service_type, e.service_name, e.url) for e in identity.region_catalog(layout, pod1)} == {
        ("identity", "keystone", "http://127.0.0.1:25000/v3"),
        ("placement", "placement", "http://127.0.0.1:25178"),
        ("compute", "nova", "http://127.0.0.1:25174/v2.1"),
        ("volumev3", "cinderv3", "http://127.0.0.1:25176/v3/%(project_id)s"),
        ("block-storage", "cinder", "http://127.0.0.1:25176/v3/%(project_id)s"),
        ("image", "glance", "http://127.0.0.1:25192"),
        ("network", "neutron", "http://127.0.0.1:25196"),
    }
    assert {e.region for e in identity.region_catalog(layout, pod1)} == {"Pod1"}


def test_atoll_gets_the_top_region_and_the_pods_in_alternating_azs(tmp_path: pathlib.Path) -> None:
    assert atoll.pod_registrations(Layout(state=tmp_path).regions(3)) == [
        {"region_name": "RegionOne"},
        {"region_name": "Pod1", "az_name": "az1"},
        {"region_name": "Pod2", "az_name": "az2"},
        {"region_name": "Pod3", "az_name": "az1"},
    ]


def test_atoll_is_the_top_regions_compute_volume_image_and_network(tmp_path: pathlib.Path) -> None:
    top = Layout(state=tmp_path).regions(1)[0]
    base = f"http://127.0.0.1:{ATOLL_PORT}"
    assert [tuple(e) for e in atoll.catalog_entries(top)] == [
        ("compute", "nova", "RegionOne", base + "/compute/v2.1"),
        ("volumev3", "cinderv3", "RegionOne", base + "/volume/v3"),
        ("block-storage", "cinder", "RegionOne", base + "/volume/v3"),
        ("image", "glance", "RegionOne", base + "/image"),
        ("network", "neutron", "RegionOne", base + "/network"),
    ]
