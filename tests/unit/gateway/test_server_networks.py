"""Servers on top networks and ports: the gateway in front of two fake Novas, each pod with a
fake Neutron, and a fake central Neutron (all on loopback)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from atoll.db.models import ResourceRouting
from atoll.gateway.names import TopNames
from tests.conftest import MEMBER
from tests.unit.gateway.conftest import Bed
from tests.unit.network.fakeneutron import FakeNeutron
from tests.unit.pods.dbpods import set_pod
from tests.unit.pods.fakepod import serve


@dataclasses.dataclass
class Net:
    bed: Bed
    central: FakeNeutron
    pods: dict[str, FakeNeutron]
    network: dict[str, Any]

    async def boot(self, az: str, *networks: dict[str, Any], **fields: Any) -> Any:
        server = {"name": "vm", "flavorRef": "1", "imageRef": "img", "availability_zone": az} | fields
        body = {"server": server | {"networks": list(networks)}}
        return await self.bed.http.post("/compute/v2.1/servers", json=body, headers=MEMBER)


@pytest.fixture
async def net(bed: Bed) -> AsyncIterator[Net]:
    central, pods = FakeNeutron("the central Neutron"), {n: FakeNeutron(f"pod {n}") for n in bed.pods}
    async with contextlib.AsyncExitStack() as stack:
        served = {n: await stack.enter_async_context(serve(p.pod())) for n, p in pods.items()}
        top = await stack.enter_async_context(serve(central.pod()))
        async with bed.sessions.begin() as session:
            for name, nova in bed.pods.items():
                endpoints = {"compute": nova.url + "/v2.1", "network": served[name].url}
                await set_pod(session, bed.ids[name], endpoints=endpoints)
        bed.parts.gateway.registry.invalidate()
        bed.parts.gateway.conf.set_override("central_neutron_url", top.url, group="gateway")
        network = central.add("networks", name="net1")
        central.add("subnets", network_id=network["id"], cidr="10.9.0.0/24")
        yield Net(bed, central, pods, network)


async def _ports(bed: Bed) -> list[tuple[str, str]]:
    async with bed.sessions() as session:
        rows = (await session.scalars(sa.select(ResourceRouting).where(ResourceRouting.resource_type == "port"))).all()
        return [(r.top_id, str(r.bottom_id)) for r in rows]


async def test_a_server_boots_on_the_copy_of_a_top_port_made_for_it(net: Net) -> None:
    response = await net.boot("az2", {"uuid": net.network["id"], "tag": "nic1"}, security_groups=[{"name": "default"}])
    assert response.status_code == 202, response.text
    server_id = response.json()["server"]["id"]
    [top] = net.central.made("ports")
    [bottom] = net.pods["Pod2"].made("ports")
    assert (bottom["name"], bottom["mac_address"]) == (top["id"], top["mac_address"])
    assert [f["ip_address"] for f in bottom["fixed_ips"]] == [f["ip_address"] for f in top["fixed_ips"]]
    [sent] = net.bed.pods["Pod2"].bodies
    assert sent["server"]["networks"] == [{"port": bottom["id"], "tag": "nic1"}]
    assert "security_groups" not in sent["server"]  # applied to the ports instead
    [default] = [g for g in net.central.made("security-groups") if g["name"] == "default"]
    assert top["security_groups"] == [default["id"]]
    assert (top["device_id"], top["device_owner"]) == (server_id, "compute:az2")
    assert net.pods["Pod1"].calls == []
    assert await _ports(net.bed) == [(top["id"], bottom["id"])]


async def test_a_given_top_port_is_realized_and_not_made(net: Net) -> None:
    top = net.central.add("ports", network_id=net.network["id"])
    response = await net.boot("az1", {"port": top["id"]})
    assert response.status_code == 202, response.text
    assert len(net.central.made("ports")) == 1
    [bottom] = net.pods["Pod1"].made("ports")
    assert net.bed.pods["Pod1"].bodies[0]["server"]["networks"] == [{"port": bottom["id"]}]


@pytest.mark.parametrize(
    ("entry", "status", "message"),
    [
        ({"uuid": "no-such-net"}, 400, "Network no-such-net could not be found."),
        ({"port": "no-such-port"}, 400, "Port id no-such-port could not be found."),
        ({"fixed_ip": "10.9.0.5"}, 400, "each entry needs a 'uuid' or a 'port'"),
    ],
)
async def test_bad_networks_are_refused_before_anything_is_made(
    net: Net, entry: dict[str, Any], status: int, message: str
) -> None:
    response = await net.boot("az1", entry)
    assert response.status_code == status
    assert message in response.json()["badRequest"]["message"]
    assert (net.central.made("ports"), net.pods["Pod1"].made("ports"), net.bed.pods["Pod1"].bodies) == ([], [], [])


async def test_a_port_in_use_is_a_conflict(net: Net) -> None:
    top = net.central.add("ports", network_id=net.network["id"], device_id="another-server")
    response = await net.boot("az1", {"port": top["id"]})
    assert response.status_code == 409
    assert response.json()["conflictingRequest"]["message"] == f"Port {top['id']} is still in use."


async def test_several_servers_on_networks_in_one_request_are_refused(net: Net) -> None:
    response = await net.boot("az1", {"uuid": net.network["id"]}, min_count=2, max_count=2)
    assert response.status_code == 400
    assert "one per request" in response.json()["badRequest"]["message"]
    assert net.central.made("ports") == []


async def test_a_failed_realization_leaves_no_port_anywhere(net: Net) -> None:
    net.pods["Pod1"].refuse[("POST", "ports")] = 409
    response = await net.boot("az1", {"uuid": net.network["id"]}, {"uuid": net.network["id"]})
    assert response.status_code == 409
    assert "pod Pod1 refused POST /ports" in response.json()["conflictingRequest"]["message"]
    assert net.central.posts("ports") == 1  # the first top port was made, then deleted
    assert (net.central.made("ports"), net.pods["Pod1"].made("ports"), await _ports(net.bed)) == ([], [], [])
    assert net.bed.pods["Pod1"].bodies == []


async def test_a_refused_boot_deletes_the_ports_made_for_it(net: Net) -> None:
    second = net.central.add("networks", name="net2")
    net.central.add("subnets", network_id=second["id"], cidr="10.8.0.0/24")
    net.pods["Pod2"].refuse[("POST", "subnets")] = 400
    response = await net.boot("az2", {"uuid": net.network["id"]}, {"uuid": second["id"]})
    assert response.status_code == 400
    # net1's port was realized before net2's subnet was refused: both sides are undone.
    assert (net.central.made("ports"), net.pods["Pod2"].made("ports"), await _ports(net.bed)) == ([], [], [])


async def test_replies_show_top_names_and_delete_frees_the_ports(net: Net) -> None:
    response = await net.boot("az1", {"uuid": net.network["id"]})
    server_id = response.json()["server"]["id"]
    [top] = net.central.made("ports")
    [group] = net.central.made("security-groups")
    server = net.bed.pods["Pod1"].servers[server_id]
    server["addresses"] = {net.network["id"]: [{"version": 4, "addr": top["fixed_ips"][0]["ip_address"]}]}
    server["security_groups"] = [{"name": group["id"]}]
    shown = (await net.bed.http.get(f"/compute/v2.1/servers/{server_id}", headers=MEMBER)).json()["server"]
    assert shown["addresses"] == {"net1": server["addresses"][net.network["id"]]}
    assert shown["security_groups"] == [{"name": "default"}]
    listed = (await net.bed.http.get("/compute/v2.1/servers/detail", headers=MEMBER)).json()["servers"]
    assert [s["addresses"] for s in listed] == [{"net1": server["addresses"][net.network["id"]]}]

    net.pods["Pod1"].made("ports")[0]["device_owner"] = "compute:nova"  # bound by the pod's Nova
    assert (await net.bed.http.delete(f"/compute/v2.1/servers/{server_id}", headers=MEMBER)).status_code == 204
    assert (net.central.made("ports"), net.pods["Pod1"].made("ports"), await _ports(net.bed)) == ([], [], [])


async def test_top_names_are_kept_a_while_and_a_rename_through_atoll_shows_at_once(net: Net) -> None:
    now = [0.0]
    net.bed.parts.gateway.top_names = TopNames(ttl=30.0, clock=lambda: now[0])
    response = await net.boot("az1", {"uuid": net.network["id"]})
    server_id = response.json()["server"]["id"]
    server = net.bed.pods["Pod1"].servers[server_id]
    server["addresses"] = {net.network["id"]: [{"version": 4, "addr": "10.9.0.5"}]}
    url = f"/compute/v2.1/servers/{server_id}"

    async def shown() -> list[str]:
        return list((await net.bed.http.get(url, headers=MEMBER)).json()["server"]["addresses"])

    def asked() -> int:
        return sum(1 for method, path, _ in net.central.calls if (method, path) == ("GET", "/networks"))

    before = asked()
    assert [await shown(), await shown()] == [["net1"], ["net1"]]
    assert asked() == before + 1  # the second show used the name kept

    net.central.objects["networks"][net.network["id"]]["name"] = "renamed-in-neutron"
    assert await shown() == ["net1"]  # a rename Atoll did not see: within the TTL, the name kept
    now[0] += 31
    assert await shown() == ["renamed-in-neutron"]

    body = {"network": {"name": "renamed-through-atoll"}}
    put = await net.bed.http.put(f"/network/v2.0/networks/{net.network['id']}", json=body, headers=MEMBER)
    assert put.status_code == 200
    assert await shown() == ["renamed-through-atoll"]  # at once


async def test_top_names_not_listed_to_the_caller_are_asked_again() -> None:
    central = FakeNeutron("the central Neutron")
    known = central.add("networks", name="seen")
    names = TopNames(ttl=30.0)

    async def listed(ids: set[str]) -> dict[str, str]:
        return await names.names(central, "networks", ids)

    assert await listed({known["id"], "not-listed"}) == {known["id"]: "seen"}
    assert await listed({known["id"], "not-listed"}) == {known["id"]: "seen"}
    assert len(central.calls) == 2  # asked again, for the id it did not list
    assert await listed({known["id"]}) == {known["id"]: "seen"}
    assert len(central.calls) == 2


async def test_delete_releases_a_port_the_user_gave(net: Net) -> None:
    given = net.central.add("ports", network_id=net.network["id"])
    server_id = (await net.boot("az1", {"port": given["id"]})).json()["server"]["id"]
    assert net.central.objects["ports"][given["id"]]["device_id"] == server_id
    assert (await net.bed.http.delete(f"/compute/v2.1/servers/{server_id}", headers=MEMBER)).status_code == 204
    kept = net.central.objects["ports"][given["id"]]
    assert (kept["device_id"], kept["device_owner"]) == ("", "")
    assert net.pods["Pod1"].made("ports") == []


async def test_none_goes_through_untouched(net: Net) -> None:
    body = {"server": {"name": "vm", "flavorRef": "1", "imageRef": "img", "networks": "none"}}
    assert (await net.bed.http.post("/compute/v2.1/servers", json=body, headers=MEMBER)).status_code == 202
    assert [b["server"]["networks"] for b in net.bed.pods["Pod1"].bodies + net.bed.pods["Pod2"].bodies] == ["none"]
    assert net.central.calls == []


@pytest.mark.parametrize("networks", ["auto", None])
async def test_auto_or_no_networks_use_the_projects_one_top_network(net: Net, networks: str | None) -> None:
    net.central.add("networks", name="someone-elses", project_id="project-b")
    if networks == "auto":  # Nova leaves external networks out only when it allocates automatically
        net.central.add("networks", name="public", shared=True, **{"router:external": True})
    server = {"name": "vm", "flavorRef": "1", "imageRef": "img", "availability_zone": "az1"}
    body = {"server": server | ({"networks": networks} if networks else {})}
    response = await net.bed.http.post("/compute/v2.1/servers", json=body, headers=MEMBER)
    assert response.status_code == 202, response.text
    [top] = net.central.made("ports")
    [bottom] = net.pods["Pod1"].made("ports")
    assert top["network_id"] == net.network["id"]
    assert net.bed.pods["Pod1"].bodies[0]["server"]["networks"] == [{"port": bottom["id"]}]


async def test_auto_with_several_top_networks_is_ambiguous(net: Net) -> None:
    net.central.add("networks", name="net2")
    body = {"server": {"name": "vm", "flavorRef": "1", "imageRef": "img", "networks": "auto"}}
    response = await net.bed.http.post("/compute/v2.1/servers", json=body, headers=MEMBER)
    assert response.status_code == 409
    assert response.json()["conflictingRequest"]["message"].startswith("More than one possible network found.")
    assert net.central.made("ports") == []


async def _routings(bed: Bed) -> list[str]:
    async with bed.sessions() as session:
        return sorted((await session.scalars(sa.select(ResourceRouting.resource_type))).all())


async def test_deleting_top_objects_deletes_their_copies_in_every_pod(net: Net) -> None:
    group = net.central.add("security-groups", name="web")
    for az in ("az1", "az2"):
        response = await net.boot(az, {"uuid": net.network["id"]}, security_groups=[{"name": "web"}])
        server_id = response.json()["server"]["id"]
        assert (await net.bed.http.delete(f"/compute/v2.1/servers/{server_id}", headers=MEMBER)).status_code == 204
    assert [len(p.made("networks")) for p in net.pods.values()] == [1, 1]
    assert (
        await net.bed.http.delete(f"/network/v2.0/security-groups/{group['id']}", headers=MEMBER)
    ).status_code == 204
    assert [[g["name"] for g in p.made("security-groups")] for p in net.pods.values()] == [["default"], ["default"]]
    assert await _routings(net.bed) == ["network", "network", "subnet", "subnet"]  # servers and ports gone
    network_id = net.network["id"]
    assert (await net.bed.http.delete(f"/network/v2.0/networks/{network_id}", headers=MEMBER)).status_code == 204
    assert [p.made("networks") for p in net.pods.values()] == [[], []]
    assert await _routings(net.bed) == []


async def test_an_interface_attached_to_a_top_network_is_a_realized_top_port(net: Net) -> None:
    server_id = (await net.boot("az2", {"uuid": net.network["id"]})).json()["server"]["id"]
    second = net.central.add("networks", name="net2")
    net.central.add("subnets", network_id=second["id"], cidr="10.8.0.0/24")
    base = f"/compute/v2.1/servers/{server_id}/os-interface"
    body = {"interfaceAttachment": {"net_id": second["id"], "tag": "nic2"}}
    assert (await net.bed.http.post(base, json=body, headers=MEMBER)).status_code == 200
    top = next(p for p in net.central.made("ports") if p["network_id"] == second["id"])
    copy = next(p for p in net.pods["Pod2"].made("ports") if p["name"] == top["id"])
    assert net.bed.pods["Pod2"].bodies[-1] == b'{"interfaceAttachment": {"port_id": "%s", "tag": "nic2"}}' % (
        copy["id"].encode()
    )
    assert top["device_id"] == server_id

    assert (await net.bed.http.delete(f"{base}/{top['id']}", headers=MEMBER)).status_code == 200
    assert net.bed.pods["Pod2"].seen[-1]["path"] == f"/v2.1/servers/{server_id}/os-interface/{copy['id']}"
    assert top["id"] not in net.central.objects["ports"]
    assert copy["id"] not in net.pods["Pod2"].objects["ports"]
    assert len(net.central.made("ports")) == 1  # the boot's port stays


async def test_a_refused_attach_leaves_no_port(net: Net) -> None:
    server_id = (await net.boot("az1", {"uuid": net.network["id"]})).json()["server"]["id"]
    net.pods["Pod1"].refuse[("POST", "ports")] = 400
    body = {"interfaceAttachment": {"net_id": net.network["id"]}}
    response = await net.bed.http.post(f"/compute/v2.1/servers/{server_id}/os-interface", json=body, headers=MEMBER)
    assert response.status_code == 400
    assert [p["device_id"] for p in net.central.made("ports")] == [server_id]


async def test_a_rule_changed_through_atoll_reaches_the_copies_of_its_group(net: Net) -> None:
    web = net.central.add("security-groups", name="web", description="")
    for rule in [r for r in net.central.made("security-group-rules") if r["security_group_id"] == web["id"]]:
        del net.central.objects["security-group-rules"][rule["id"]]
    http = net.central.add_rule(web["id"], protocol="tcp", port_range_min=80, port_range_max=80)
    response = await net.boot("az2", {"uuid": net.network["id"]}, security_groups=[{"name": "web"}])
    assert response.status_code == 202, response.text
    [copy] = [g["id"] for g in net.pods["Pod2"].made("security-groups") if g["name"] == web["id"]]

    def ports() -> list[Any]:
        rules = net.pods["Pod2"].made("security-group-rules")
        return sorted(r.get("port_range_min") for r in rules if r["security_group_id"] == copy)

    assert ports() == [80]
    ssh = {"security_group_id": web["id"], "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp"}
    ssh |= {"port_range_min": 22, "port_range_max": 22}
    made = await net.bed.http.post(
        "/network/v2.0/security-group-rules", json={"security_group_rule": ssh}, headers=MEMBER
    )
    assert made.status_code == 201, made.text
    assert ports() == [22, 80]
    gone = await net.bed.http.delete(f"/network/v2.0/security-group-rules/{http['id']}", headers=MEMBER)
    assert gone.status_code == 204
    assert ports() == [22]
    assert net.pods["Pod1"].made("security-group-rules") == []  # no copy there, nothing to change

    # The server's os-security-groups (the pod's copies, named by their top ids) shows the top ones.
    server_id = response.json()["server"]["id"]
    [bottom_rule] = [r for r in net.pods["Pod2"].made("security-group-rules") if r["security_group_id"] == copy]
    nova_rule = {"id": bottom_rule["id"], "parent_group_id": copy, "ip_protocol": "tcp", "from_port": 22}
    nova_rule |= {"to_port": 22, "ip_range": {"cidr": "0.0.0.0/0"}, "group": {}}
    web["description"] = "the web tier"  # changed after the copy was made
    listed = {"security_groups": [{"id": copy, "name": web["id"], "description": "", "rules": [nova_rule]}]}
    net.bed.pods["Pod2"].canned[f"/v2.1/servers/{server_id}/os-security-groups"] = (200, listed)
    shown = await net.bed.http.get(f"/compute/v2.1/servers/{server_id}/os-security-groups", headers=MEMBER)
    [group] = shown.json()["security_groups"]
    [top_ssh] = [r for r in net.central.made("security-group-rules") if r.get("port_range_min") == 22]
    assert (group["id"], group["name"], group["description"]) == (web["id"], "web", "the web tier")
    assert (group["rules"][0]["id"], group["rules"][0]["parent_group_id"]) == (top_ssh["id"], web["id"])
