"""Servers on top networks, on the real test bed with the unmodified `openstack` CLI through
`RegionOne` (Atoll; its network API is the central Neutron): a top network and subnet, a
server in az1 (Pod1) and one in az2 (Pod2) on it. Each pod's Neutron gets a copy of the
network, subnet and security group, and a port with the top port's IP and MAC; the
server shows the top network's name; deleting the servers frees the top ports."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.realpods]

REGION = "RegionOne"
CIDR = "10.9.0.0/24"


def _cli(atoll: Any, *args: str, region: str = REGION, **kw: Any) -> Any:
    return atoll.openstack(*args, region=region, **kw)


@pytest.fixture(scope="module")
def network(atoll: Any) -> Iterator[dict[str, Any]]:
    name = f"net-{uuid.uuid4().hex[:6]}"
    made = _cli(atoll, "network", "create", name)
    subnet = _cli(atoll, "subnet", "create", "--network", name, "--subnet-range", CIDR, f"{name}-sub")
    try:
        yield {"network": made, "subnet": subnet}
    finally:
        _cli(atoll, "subnet", "delete", subnet["id"], json_output=False, check=False)
        _cli(atoll, "network", "delete", made["id"], json_output=False, check=False)


@pytest.fixture(scope="module")
def servers(atoll: Any, network: dict[str, Any]) -> Iterator[dict[str, dict[str, Any]]]:
    made: dict[str, dict[str, Any]] = {}
    name = network["network"]["name"]
    flavor, image = atoll.flavor["name"], atoll.image["name"]
    try:
        for pod, az in (("Pod1", "az1"), ("Pod2", "az2")):
            made[pod] = _cli(
                atoll,
                *("server", "create", "--network", name, "--availability-zone", az),
                *("--flavor", flavor, "--image", image, "--wait", f"vm-{az}-{uuid.uuid4().hex[:6]}"),
            )
        yield made
    finally:
        for server in made.values():
            _cli(atoll, "server", "delete", "--wait", server["id"], json_output=False, check=False)


def _top_port(atoll: Any, server_id: str) -> dict[str, Any]:
    [port] = _cli(atoll, "port", "list", "--device-id", server_id, "--long")
    return dict(port)


def test_servers_boot_on_copies_of_their_top_ports(
    atoll: Any, network: dict[str, Any], servers: dict[str, dict[str, Any]]
) -> None:
    top_network, top_subnet = network["network"], network["subnet"]
    bottom_networks = set()
    for pod, server in servers.items():
        assert server["status"] == "ACTIVE"
        top = _top_port(atoll, server["id"])
        [top_ip] = top["Fixed IP Addresses"]
        assert top_ip["subnet_id"] == top_subnet["id"]
        shown = _cli(atoll, "server", "show", server["id"])
        assert shown["addresses"] == {top_network["name"]: [top_ip["ip_address"]]}

        [bottom_network] = _cli(atoll, "network", "list", "--name", top_network["id"], region=pod)
        [bottom_subnet] = _cli(atoll, "subnet", "list", "--network", bottom_network["ID"], "--long", region=pod)
        assert (bottom_subnet["Name"], bottom_subnet["Subnet"], bottom_subnet["Gateway"]) == (
            top_subnet["id"],
            CIDR,
            top_subnet["gateway_ip"],
        )
        [bottom] = _cli(atoll, "port", "list", "--server", server["id"], "--long", region=pod)
        assert (bottom["Name"], bottom["MAC Address"]) == (top["ID"], top["MAC Address"])
        assert bottom["Fixed IP Addresses"] == [{"subnet_id": bottom_subnet["ID"], "ip_address": top_ip["ip_address"]}]
        [top_group] = top["Security Groups"]
        [bottom_group] = bottom["Security Groups"]
        copied = _cli(atoll, "security", "group", "show", bottom_group, region=pod)
        assert copied["name"] == top_group
        top_rules = _cli(atoll, "security", "group", "rule", "list", top_group, "--long")
        bottom_rules = _cli(atoll, "security", "group", "rule", "list", bottom_group, "--long", region=pod)

        def shape(rules: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
            return sorted(
                (r["Direction"], r["Ethertype"], r["IP Protocol"], r["IP Range"], r["Remote Security Group"] is None)
                for r in rules
            )

        assert shape(bottom_rules) == shape(top_rules)
        bottom_networks.add((pod, bottom_network["ID"]))
    assert len(bottom_networks) == 2  # one copy in each pod


def test_interfaces_attach_list_and_detach_with_top_ids(atoll: Any, servers: dict[str, dict[str, Any]]) -> None:
    server_id = servers["Pod1"]["id"]
    name = f"net-{uuid.uuid4().hex[:6]}"
    second = _cli(atoll, "network", "create", name)
    subnet = _cli(atoll, "subnet", "create", "--network", name, "--subnet-range", "10.8.0.0/24", f"{name}-sub")
    try:
        _cli(atoll, "server", "add", "network", server_id, name, json_output=False)
        [top] = _cli(atoll, "port", "list", "--device-id", server_id, "--network", second["id"])
        token = _cli(atoll, "token", "issue")["id"]
        url = f"{atoll.info['atoll_url'].rstrip('/')}/compute/v2.1/servers/{server_id}/os-interface"
        listed = httpx.get(url, headers={"X-Auth-Token": token}).json()["interfaceAttachments"]
        shown = {a["port_id"]: (a["net_id"], [f["subnet_id"] for f in a["fixed_ips"]]) for a in listed}
        assert shown[top["ID"]] == (second["id"], [subnet["id"]])
        addresses = _cli(atoll, "server", "show", server_id)["addresses"]
        assert addresses[name] == [top["Fixed IP Addresses"][0]["ip_address"]]

        _cli(atoll, "server", "remove", "network", server_id, name, json_output=False)
        assert _cli(atoll, "port", "list", "--network", second["id"]) == []
        assert _cli(atoll, "port", "list", "--name", top["ID"], region="Pod1") == []
    finally:
        _cli(atoll, "subnet", "delete", subnet["id"], json_output=False, check=False)
        _cli(atoll, "network", "delete", second["id"], json_output=False, check=False)


def test_deleting_the_servers_frees_their_top_and_bottom_ports(
    atoll: Any, network: dict[str, Any], servers: dict[str, dict[str, Any]]
) -> None:
    tops = {pod: _top_port(atoll, s["id"])["ID"] for pod, s in servers.items()}
    for pod, server in list(servers.items()):
        _cli(atoll, "server", "delete", "--wait", server["id"], json_output=False)
        del servers[pod]
        left = {p["ID"] for p in _cli(atoll, "port", "list", "--network", network["network"]["id"])}
        assert tops[pod] not in left
        copies = _cli(atoll, "port", "list", "--name", tops[pod], region=pod)
        assert copies == []


def test_deleting_the_top_network_deletes_its_copies(atoll: Any, network: dict[str, Any]) -> None:
    top_id = network["network"]["id"]
    assert [len(_cli(atoll, "network", "list", "--name", top_id, region=pod)) for pod in ("Pod1", "Pod2")] == [1, 1]
    _cli(atoll, "subnet", "delete", network["subnet"]["id"], json_output=False)
    assert _cli(atoll, "subnet", "list", "--name", network["subnet"]["id"], region="Pod1") == []
    _cli(atoll, "network", "delete", top_id, json_output=False)
    assert [_cli(atoll, "network", "list", "--name", top_id, region=pod) for pod in ("Pod1", "Pod2")] == [[], []]
