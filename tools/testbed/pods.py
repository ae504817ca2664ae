"""A pod is ready when a server and a volume can be created in it: wait for that, then seed it.

Its compute host must be mapped to a cell (a boot fails before that) and
Cinder's scheduler must know the volume pool (a create fails with "No
weighed backend found" before that).  Every pod then gets the flavor
``m1.tiny`` and the public raw image ``testbed-image``, with the same ids
everywhere.
"""

from __future__ import annotations

import time

from testbed import databases
from testbed.layout import FLAVOR, IMAGE_DATA, IMAGE_ID, IMAGE_NAME, Layout, Region
from testbed.util import TestbedError, http, say, tail, wait_until


def finish(layout: Layout, region: Region, token: str) -> None:
    """Wait for the hypervisor and volume service; add flavor and image."""
    t0 = time.monotonic()
    _wait_for_compute(layout, region, token)
    t1 = time.monotonic()
    _wait_for_volumes(layout, region, token)
    t2 = time.monotonic()
    _seed_flavor(layout, region, token)
    _seed_image(layout, region, token)
    say(
        f"  {region.name}: hypervisor mapped after {t1 - t0:.1f}s, "
        f"volume service {t2 - t1:.1f}s, flavor+image "
        f"{time.monotonic() - t2:.1f}s"
    )


def _wait_for_compute(layout: Layout, region: Region, token: str) -> None:
    nova = f"http://127.0.0.1:{layout.port(region, 'nova')}/v2.1"
    hdr = {"OpenStack-API-Version": "compute 2.53"}

    def hypervisors() -> bool:
        r = http("GET", nova + "/os-hypervisors", token=token, headers=hdr)
        return r.status == 200 and bool(r.json()["hypervisors"])

    compute_log = layout.logdir / f"{region.short}-nova-compute.log"
    wait_until(f"{region.name} hypervisor", hypervisors, 180, 1, lambda: tail(compute_log))
    # The hypervisor shows up before its host is mapped to a cell (and
    # a boot before that fails); the scheduler maps it within
    # discover_hosts_in_cells_interval.
    api_db = f"{layout.db_prefix}{region.short}_nova_api"
    query = f"SELECT host FROM `{api_db}`.host_mappings"  # noqa: S608 (the test bed's own database name)
    wait_until(f"{region.name} host mapping", lambda: databases.sql(layout, [query]).strip(), 120, 1)


def _wait_for_volumes(layout: Layout, region: Region, token: str) -> None:
    cinder = f"http://127.0.0.1:{layout.port(region, 'cinder')}/v3"

    def volume_up() -> bool:
        # The volume service must be up *and* the scheduler must know its
        # pool (capabilities arrive asynchronously), else creates fail
        # with "No weighed backend found".
        r = http("GET", cinder + "/os-services?binary=cinder-volume", token=token)
        if not (r.status == 200 and any(s["state"] == "up" for s in r.json()["services"])):
            return False
        r = http("GET", cinder + "/scheduler-stats/get_pools", token=token)
        return r.status == 200 and bool(r.json().get("pools"))

    volume_log = layout.logdir / f"{region.short}-cinder-volume.log"
    wait_until(f"{region.name} cinder-volume", volume_up, 120, 1, lambda: tail(volume_log))


def _seed_flavor(layout: Layout, region: Region, token: str) -> None:
    nova = f"http://127.0.0.1:{layout.port(region, 'nova')}/v2.1"
    if http("GET", f"{nova}/flavors/{FLAVOR['id']}", token=token).status == 404:
        r = http("POST", nova + "/flavors", {"flavor": FLAVOR}, token=token)
        if r.status not in (200, 409):
            raise TestbedError(f"flavor create in {region.name}: {r.status} {r.body[:300]!r}")


def _seed_image(layout: Layout, region: Region, token: str) -> None:
    glance = f"http://127.0.0.1:{layout.port(region, 'glance')}"
    r = http("GET", f"{glance}/v2/images/{IMAGE_ID}", token=token)
    if r.status == 404:
        image = {
            "id": IMAGE_ID,
            "name": IMAGE_NAME,
            "disk_format": "raw",
            "container_format": "bare",
            "visibility": "public",
        }
        r = http("POST", glance + "/v2/images", image, token=token)
        if r.status != 201:
            raise TestbedError(f"image create in {region.name}: {r.status} {r.body[:300]!r}")
    if r.json().get("status") != "active":
        r = http("PUT", f"{glance}/v2/images/{IMAGE_ID}/file", token=token, raw=IMAGE_DATA, timeout=60)
        if r.status not in (204, 200):
            raise TestbedError(f"image upload in {region.name}: {r.status} {r.body[:300]!r}")
