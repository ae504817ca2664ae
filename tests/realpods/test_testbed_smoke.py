"""Smoke test of the real OpenStack test bed, straight against each pod.

No Atoll involved: this proves the pods themselves can do what Atoll's
gateway will rely on (networks, servers, volumes, boot from volume, images)
and that ``stop-pod`` / ``start-pod`` really take a pod's APIs away and back.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from openstack import exceptions

pytestmark = [
    pytest.mark.realpods,
    # openstacksdk warns about its own internals (InfluxDB, _compute_attributes) on every call.
    pytest.mark.filterwarnings("ignore::openstack.warnings.OpenStackDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::openstack.warnings._RemovedInSDKWarning"),
    pytest.mark.filterwarnings("ignore::openstack.warnings.OpenStackWarning"),
]

PODS = [f"Pod{i}" for i in range(1, int(os.environ.get("ATOLL_TESTBED_PODS") or 2) + 1)]
WAIT = 300  # seconds openstacksdk may wait for a status; never asserted on


def _connect_refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(5)
        try:
            sock.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
    return False


@pytest.mark.parametrize("pod", PODS)
def test_pod_does_network_server_volume_image(testbed: Any, pod: str) -> None:
    assert pod in testbed.pod_regions
    suffix = uuid.uuid4().hex[:8]
    created: list[tuple[str, Any]] = []
    with testbed.connect("testbed-demo", pod) as conn, testbed.connect("testbed-admin", pod) as admin:
        try:
            _network_server_volume_image(testbed, pod, conn, admin, suffix, created)
        finally:
            _cleanup(conn, created)


def _network_server_volume_image(
    testbed: Any, pod: str, conn: Any, admin: Any, suffix: str, created: list[tuple[str, Any]]
) -> None:
    """Everything the gateway will ask of a pod, straight against it; `created` collects what to delete."""
    # Network + subnet.
    net = conn.network.create_network(name=f"smoke-net-{suffix}")
    created.append(("network", net))
    subnet = conn.network.create_subnet(
        network_id=net.id, name=f"smoke-subnet-{suffix}", ip_version=4, cidr="10.77.0.0/24"
    )
    assert subnet.cidr == "10.77.0.0/24"
    assert net.id in {n.id for n in conn.network.networks()}

    # A server from the pod's image, to ACTIVE, with a bound port.
    image = conn.image.find_image(testbed.image["name"], ignore_missing=False)
    flavor = conn.compute.find_flavor(testbed.flavor["name"], ignore_missing=False)
    assert (image.id, flavor.id) == (testbed.image["id"], testbed.flavor["id"])  # the same ids in every pod
    server = conn.compute.create_server(
        name=f"smoke-vm-{suffix}", image_id=image.id, flavor_id=flavor.id, networks=[{"uuid": net.id}]
    )
    created.append(("server", server))
    server = conn.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], wait=WAIT)
    assert (server.name, server.status) == (f"smoke-vm-{suffix}", "ACTIVE")
    ports = list(conn.network.ports(device_id=server.id))
    assert len(ports) == 1
    assert ports[0].status == "ACTIVE"
    # Binding details are admin-only: the test bed's mechanism driver bound it.
    admin_port = admin.network.get_port(ports[0].id)
    assert admin_port.binding_vif_type == "ovs"
    assert admin_port.binding_host_id == f"{pod.lower()}-compute"
    addresses = [a["addr"] for addrs in server.addresses.values() for a in addrs]
    assert addresses
    assert all(a.startswith("10.77.0.") for a in addresses)

    # A volume, attached to the server.
    volume = conn.block_storage.create_volume(size=1, name=f"smoke-vol-{suffix}")
    created.append(("volume", volume))
    conn.block_storage.wait_for_status(volume, "available", failures=["error"], wait=WAIT)
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    volume = conn.block_storage.wait_for_status(volume, "in-use", failures=["error"], wait=WAIT)
    assert [a["server_id"] for a in volume.attachments] == [server.id]

    # A volume from the image, then a server booted from that volume.
    boot_volume = conn.block_storage.create_volume(size=1, image_id=image.id, name=f"smoke-bootvol-{suffix}")
    created.append(("volume", boot_volume))
    boot_volume = conn.block_storage.wait_for_status(boot_volume, "available", failures=["error"], wait=WAIT)
    assert boot_volume.is_bootable
    assert boot_volume.volume_image_metadata["image_id"] == image.id
    bfv = conn.compute.create_server(
        name=f"smoke-bfv-{suffix}",
        flavor_id=flavor.id,
        networks=[{"uuid": net.id}],
        block_device_mapping=[
            {
                "boot_index": 0,
                "uuid": boot_volume.id,
                "source_type": "volume",
                "destination_type": "volume",
                "delete_on_termination": False,
            }
        ],
    )
    created.append(("server", bfv))
    bfv = conn.compute.wait_for_server(bfv, status="ACTIVE", failures=["ERROR"], wait=WAIT)
    assert bfv.status == "ACTIVE"
    assert [a["id"] for a in bfv.attached_volumes] == [boot_volume.id]

    # Upload an image and find it in the list.
    data = b"smoke image " + suffix.encode() + b"\n" * 2000
    uploaded = conn.image.create_image(
        name=f"smoke-img-{suffix}", data=data, disk_format="raw", container_format="bare"
    )
    created.append(("image", uploaded))
    uploaded = conn.image.get_image(uploaded.id)
    assert uploaded.status == "active"
    assert uploaded.size == len(data)
    assert uploaded.id in {i.id for i in conn.image.images()}


def _cleanup(conn: Any, created: list[tuple[str, Any]]) -> None:
    """Leave the shared test bed as we found it: delete what the test made, newest first.

    Something already gone (404) is fine; any other failure fails the test, after every
    deletion has been tried.
    """
    failures: list[str] = []
    for kind, res in reversed(created):
        try:
            _DELETE[kind](conn, res)
        except exceptions.NotFoundException:
            pass
        except exceptions.SDKException as exc:
            failures.append(f"{kind} {res.id}: {exc}")
    assert not failures, "cleanup failed: " + "; ".join(failures)


def _delete_server(conn: Any, server: Any) -> None:
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=WAIT)


def _delete_volume(conn: Any, volume: Any) -> None:
    volume = conn.block_storage.get_volume(volume.id)
    for attachment in volume.attachments or []:
        conn.compute.delete_volume_attachment(attachment["server_id"], volume.id, ignore_missing=True)
    conn.block_storage.wait_for_status(volume, "available", failures=["error"], wait=WAIT)
    conn.block_storage.delete_volume(volume)
    conn.block_storage.wait_for_delete(volume, wait=WAIT)


_DELETE: dict[str, Callable[[Any, Any], None]] = {
    "server": _delete_server,
    "volume": _delete_volume,
    "image": lambda conn, image: conn.image.delete_image(image),
    "network": lambda conn, network: conn.network.delete_network(network),
}


def test_stop_pod_refuses_connections_and_start_pod_brings_it_back(testbed: Any) -> None:
    assert len(PODS) >= 2, "needs two pods: one to stop, one that stays up"
    pod, other = PODS[-1], PODS[0]
    pod_ports = testbed.ports[pod]
    assert set(pod_ports) == {"nova", "placement", "cinder", "glance", "neutron"}
    with testbed.connect("testbed-demo", pod) as conn:
        # Something of the demo project's in the pod, to find again after the restart.
        net = conn.network.create_network(name=f"smoke-survivor-{uuid.uuid4().hex[:8]}")
        try:
            testbed.stop_pod(pod)
            try:
                for service, port in sorted(pod_ports.items()):
                    assert _connect_refused(port), f"{pod} {service} still accepts connections on {port}"
                # The other pod is unaffected.
                with testbed.connect("testbed-demo", other) as up:
                    _assert_serves_the_seeded_flavor_and_image(testbed, up)
                for service, port in sorted(testbed.ports[other].items()):
                    assert not _connect_refused(port), f"{other} {service} went down with {pod}"
            finally:
                testbed.start_pod(pod)
            for service, port in sorted(pod_ports.items()):
                assert not _connect_refused(port), f"{pod} {service} did not come back on {port}"
            with testbed.connect("testbed-demo", pod) as again:
                _assert_serves_the_seeded_flavor_and_image(testbed, again)
                assert [n.id for n in again.network.networks(name=net.name)] == [net.id]
                assert again.block_storage.find_volume("no-such-volume-" + uuid.uuid4().hex) is None
        finally:
            conn.network.delete_network(net)


def _assert_serves_the_seeded_flavor_and_image(testbed: Any, conn: Any) -> None:
    flavor = conn.compute.get_flavor(testbed.flavor["id"])
    assert (flavor.id, flavor.name) == (testbed.flavor["id"], testbed.flavor["name"])
    image = conn.image.get_image(testbed.image["id"])
    assert (image.name, image.status) == (testbed.image["name"], "active")
