"""Realizing top objects in a pod: an in-memory central Neutron and pod Neutron, a real database."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atoll.core.errors import BadRequest, Conflict, Forbidden, NotFound, ServiceUnavailable
from atoll.db import pods as pods_db
from atoll.db import routings as routings_db
from atoll.network import neutron
from atoll.network.once import Once
from atoll.network.realize import GIVEN_TOP_PORT, MADE_TOP_PORT, Realizer
from atoll.routing.store import RoutingStore
from atoll.types import PodId, ProjectId, ResourceType
from tests.unit.network.fakeneutron import FakeNeutron

Sessions = async_sessionmaker[AsyncSession]
P = ProjectId("project-a")


async def _pod(sessions: Sessions, name: str = "Pod1") -> PodId:
    async with sessions.begin() as session:
        return PodId((await pods_db.create(session, region_name=name, az_name="az-" + name)).pod_id)


def _top() -> tuple[FakeNeutron, dict[str, Any], dict[str, Any]]:
    central = FakeNeutron("the central Neutron")
    network = central.add("networks", name="net1", mtu=1450)
    subnet = central.add(
        "subnets",
        network_id=network["id"],
        cidr="10.9.0.0/24",
        gateway_ip="10.9.0.1",
        allocation_pools=[{"start": "10.9.0.10", "end": "10.9.0.99"}],
        dns_nameservers=["192.0.2.53"],
    )
    return central, network, subnet


def _realizer(central: FakeNeutron, pod: FakeNeutron, pod_id: PodId, sessions: Sessions, **once: Any) -> Realizer:
    return Realizer(central, pod, pod_id, P, Once(RoutingStore(sessions), **once))


async def _rows(sessions: Sessions) -> list[tuple[str, str | None, str]]:
    async with sessions() as session:
        rows = (await routings_db.list_page(session, {}, limit=100, marker=None))[0]
    return sorted((r.resource_type, r.bottom_id, r.top_id) for r in rows)


async def test_a_network_and_its_subnets_are_copied_named_by_their_top_ids(sessions: Sessions) -> None:
    central, network, subnet = _top()
    pod, pod_id = FakeNeutron("pod Pod1"), await _pod(sessions)
    bottom, subnets = await _realizer(central, pod, pod_id, sessions).network(network["id"])
    [made] = pod.made("networks")
    assert (made["id"], made["name"], made["mtu"]) == (bottom, network["id"], 1450)
    [copy] = pod.made("subnets")
    assert subnets == {subnet["id"]: copy["id"]}
    same = ("cidr", "gateway_ip", "allocation_pools", "dns_nameservers", "ip_version")
    assert {k: copy[k] for k in same} == {k: subnet[k] for k in same}
    assert (copy["name"], copy["network_id"], copy["enable_dhcp"]) == (subnet["id"], bottom, False)
    assert await _rows(sessions) == sorted([("network", bottom, network["id"]), ("subnet", copy["id"], subnet["id"])])


async def test_a_second_realization_reuses_the_copy_and_another_pod_gets_its_own(sessions: Sessions) -> None:
    central, network, _ = _top()
    pod1, pod2 = FakeNeutron("pod Pod1"), FakeNeutron("pod Pod2")
    id1, id2 = await _pod(sessions, "Pod1"), await _pod(sessions, "Pod2")
    first = await _realizer(central, pod1, id1, sessions).network(network["id"])
    again = await _realizer(central, pod1, id1, sessions).network(network["id"])  # another process
    other = await _realizer(central, pod2, id2, sessions).network(network["id"])
    assert first == again
    assert (pod1.posts("networks"), pod1.posts("subnets"), pod2.posts("networks")) == (1, 1, 1)
    assert other[0] == pod2.made("networks")[0]["id"] != first[0]


async def test_concurrent_realizations_make_one_copy(sessions: Sessions) -> None:
    central, network, _ = _top()
    pod, pod_id = FakeNeutron("pod Pod1"), await _pod(sessions)
    realizers = [_realizer(central, pod, pod_id, sessions, poll=0.01) for _ in range(4)]
    results = await asyncio.gather(*(r.network(network["id"]) for r in realizers))
    assert len({r[0] for r in results}) == 1
    assert (pod.posts("networks"), pod.posts("subnets")) == (1, 1)


async def test_a_copy_made_before_a_crash_is_found_by_name(sessions: Sessions) -> None:
    central, network, _ = _top()
    pod, pod_id = FakeNeutron("pod Pod1"), await _pod(sessions)
    orphan = pod.add("networks", name=network["id"])
    bottom, _ = await _realizer(central, pod, pod_id, sessions).network(network["id"])
    assert bottom == orphan["id"]
    assert pod.posts("networks") == 0


async def test_a_reservation_left_by_a_crash_is_taken_over_once_stale(sessions: Sessions) -> None:
    central, network, _ = _top()
    pod, pod_id = FakeNeutron("pod Pod1"), await _pod(sessions)
    store = RoutingStore(sessions)
    await store.reserve(pod_id, P, ResourceType.NETWORK, top_id=network["id"])  # its holder died
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    once = Once(store, poll=5.0, stale_after=30.0, sleep=sleep, clock=lambda: now[0])
    bottom, _ = await Realizer(central, pod, pod_id, P, once).network(network["id"])
    assert now[0] >= 30.0
    assert ("network", bottom, network["id"]) in await _rows(sessions)


async def test_a_refused_copy_releases_its_reservation(sessions: Sessions) -> None:
    central, network, _ = _top()
    pod, pod_id = FakeNeutron("pod Pod1"), await _pod(sessions)
    pod.refuse[("POST", "subnets")] = 400
    with pytest.raises(BadRequest, match="pod Pod1 refused POST /subnets"):
        await _realizer(central, pod, pod_id, sessions).network(network["id"])
    [network_row] = await _rows(sessions)
    assert network_row[0] == "network"  # the network copy stays (confirmed); the subnet left no reservation
    del pod.refuse[("POST", "subnets")]
    await _realizer(central, pod, pod_id, sessions).network(network["id"])
    assert len(pod.made("subnets")) == 1


async def test_an_unknown_network_is_not_found_and_nothing_is_made(sessions: Sessions) -> None:
    central, _, _ = _top()
    pod, pod_id = FakeNeutron("pod Pod1"), await _pod(sessions)
    with pytest.raises(NotFound, match="Network nope could not be found"):
        await _realizer(central, pod, pod_id, sessions).network("nope")
    assert (pod.calls, await _rows(sessions)) == ([], [])


async def test_a_port_keeps_its_ips_mac_and_groups_with_their_rules(sessions: Sessions) -> None:
    central, network, subnet = _top()
    web = central.add("security-groups", name="web")
    central.objects["security-group-rules"].clear()
    central.add(
        "security-group-rules",
        security_group_id=web["id"],
        direction="ingress",
        ethertype="IPv4",
        protocol="tcp",
        port_range_min=80,
        port_range_max=80,
        remote_ip_prefix="0.0.0.0/0",
    )
    central.add(
        "security-group-rules",
        security_group_id=web["id"],
        direction="ingress",
        ethertype="IPv4",
        remote_group_id=web["id"],
    )
    top = central.add("ports", network_id=network["id"], security_groups=[web["id"]])
    pod, pod_id = FakeNeutron("pod Pod1"), await _pod(sessions)
    realized = await _realizer(central, pod, pod_id, sessions).port(top, made_top=True)

    [port] = pod.made("ports")
    [group] = [g for g in pod.made("security-groups") if g["name"] != "default"]
    [bottom_subnet] = pod.made("subnets")
    assert realized.bottom_id == port["id"]
    assert (port["name"], port["mac_address"], port["description"]) == (top["id"], top["mac_address"], MADE_TOP_PORT)
    assert port["fixed_ips"] == [{"subnet_id": bottom_subnet["id"], "ip_address": top["fixed_ips"][0]["ip_address"]}]
    assert top["fixed_ips"][0]["subnet_id"] == subnet["id"]
    assert (port["security_groups"], group["name"]) == ([group["id"]], web["id"])
    rules = sorted(
        (
            (r["direction"], r["protocol"], r["port_range_min"], r["remote_ip_prefix"], r["remote_group_id"])
            for r in pod.made("security-group-rules")
            if r["security_group_id"] == group["id"]
        ),
        key=str,
    )  # Neutron's default egress rules are gone; the self reference names the bottom copy
    assert rules == [("ingress", "tcp", 80, "0.0.0.0/0", None), ("ingress", None, None, None, group["id"])]


async def test_groups_naming_each_other_are_both_realized(sessions: Sessions) -> None:
    central, network, _ = _top()
    one, two = central.add("security-groups", name="one"), central.add("security-groups", name="two")
    central.objects["security-group-rules"].clear()
    central.add(
        "security-group-rules",
        security_group_id=one["id"],
        direction="ingress",
        ethertype="IPv4",
        remote_group_id=two["id"],
    )
    central.add(
        "security-group-rules",
        security_group_id=two["id"],
        direction="ingress",
        ethertype="IPv4",
        remote_group_id=one["id"],
    )
    top = central.add("ports", network_id=network["id"], security_groups=[one["id"]])
    pod, pod_id = FakeNeutron("pod Pod1"), await _pod(sessions)
    await _realizer(central, pod, pod_id, sessions, stale_after=1e9).port(top, made_top=False)
    copies = {g["name"]: g["id"] for g in pod.made("security-groups") if g["name"] != "default"}
    assert set(copies) == {one["id"], two["id"]}
    rules = pod.made("security-group-rules")
    remote = {r["security_group_id"]: r["remote_group_id"] for r in rules if r["security_group_id"] in copies.values()}
    assert remote == {copies[one["id"]]: copies[two["id"]], copies[two["id"]]: copies[one["id"]]}


async def test_removing_a_port_deletes_its_copy_even_once_nova_owns_it(sessions: Sessions) -> None:
    central, network, _ = _top()
    made_top = central.add("ports", network_id=network["id"])
    given_top = central.add("ports", network_id=network["id"])
    pod, pod_id = FakeNeutron("pod Pod1"), await _pod(sessions)
    realizer = _realizer(central, pod, pod_id, sessions)
    first = await realizer.port(made_top, made_top=True)
    second = await realizer.port(given_top, made_top=False)
    pod.objects["ports"][first.bottom_id]["device_owner"] = "compute:nova"
    assert pod.objects["ports"][second.bottom_id]["description"] == GIVEN_TOP_PORT
    assert await realizer.remove_port(made_top["id"]) is True
    assert await realizer.remove_port(given_top["id"]) is False
    assert await realizer.remove_port(given_top["id"]) is None
    assert pod.made("ports") == []
    assert [r for r in await _rows(sessions) if r[0] == "port"] == []


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, BadRequest), (403, Forbidden), (404, NotFound), (409, Conflict), (503, ServiceUnavailable)],
)
async def test_refusals_become_atoll_errors_of_the_same_status(status: int, error: type[Exception]) -> None:
    pod = FakeNeutron("pod Pod1")
    pod.refuse[("POST", "networks")] = status
    with pytest.raises(error, match=r"The network service of pod Pod1 refused POST /networks: networks refused"):
        await neutron.call(pod, "POST", "/networks", json_body={"network": {}})


async def test_copies_deleted_behind_atolls_back_are_made_again(sessions: Sessions) -> None:
    central, network, _ = _top()
    first, second = central.add("ports", network_id=network["id"]), central.add("ports", network_id=network["id"])
    pod, pod_id = FakeNeutron("pod Pod1"), await _pod(sessions)
    realizer = _realizer(central, pod, pod_id, sessions)
    await realizer.port(first, made_top=True)
    for collection in ("ports", "subnets", "networks", "security-groups"):
        pod.objects[collection].clear()  # an operator cleaned the pod up
    copy = await _realizer(central, pod, pod_id, sessions).port(second, made_top=True)
    [network_copy] = pod.made("networks")
    [port] = pod.made("ports")
    assert (port["id"], port["network_id"]) == (copy.bottom_id, network_copy["id"])
    assert ("network", network_copy["id"], network["id"]) in await _rows(sessions)
    assert pod.posts("networks") == 2


def _rule(central: FakeNeutron, group: str, **fields: Any) -> dict[str, Any]:
    return central.add_rule(group, **fields)


def _allowed(pod: FakeNeutron, bottom: str) -> list[tuple[Any, ...]]:
    rules = [r for r in pod.made("security-group-rules") if r["security_group_id"] == bottom]
    return sorted(((r["protocol"], r["port_range_min"], r.get("remote_group_id")) for r in rules), key=str)


async def test_a_copy_gets_the_top_groups_rules_as_they_change_without_losing_the_others(sessions: Sessions) -> None:
    central, network, _ = _top()
    web, other = central.add("security-groups", name="web"), central.add("security-groups", name="other")
    central.objects["security-group-rules"].clear()
    http = _rule(central, web["id"], protocol="tcp", port_range_min=80, port_range_max=80)
    _rule(central, other["id"], remote_group_id=web["id"])
    top = central.add("ports", network_id=network["id"], security_groups=[web["id"]])
    pod, pod_id = FakeNeutron("pod Pod1"), await _pod(sessions)
    realizer = _realizer(central, pod, pod_id, sessions, stale_after=1e9)
    await realizer.port(top, made_top=False)
    [copy] = [g["id"] for g in pod.made("security-groups") if g["name"] == web["id"]]
    kept = {r["id"] for r in pod.made("security-group-rules") if r["security_group_id"] == copy}
    # A rule added to the top group (naming another group) and one removed: the copy follows.
    _rule(central, web["id"], protocol="tcp", port_range_min=22, port_range_max=22, remote_group_id=other["id"])
    del central.objects["security-group-rules"][http["id"]]
    await realizer.refresh_rules(web["id"], copy)
    [other_copy] = [g["id"] for g in pod.made("security-groups") if g["name"] == other["id"]]
    assert _allowed(pod, copy) == [("tcp", 22, other_copy)]
    # The other group names web, whose copy is being brought up to date: no loop, and its rule is there.
    assert _allowed(pod, other_copy) == [(None, None, copy)]
    # An unchanged group is left alone: nothing deleted and made again.
    before = {r["id"] for r in pod.made("security-group-rules") if r["security_group_id"] == copy}
    await realizer.refresh_rules(web["id"], copy)
    assert {r["id"] for r in pod.made("security-group-rules") if r["security_group_id"] == copy} == before
    assert kept.isdisjoint(before)  # the 80 rule went


@dataclasses.dataclass
class _Web:
    """A group "web" without rules, realized in Pod1 for a port on net1 (`copy`: its copy's id)."""

    central: FakeNeutron
    network: dict[str, Any]
    web: dict[str, Any]
    pod: FakeNeutron
    pod_id: PodId
    realizer: Realizer
    copy: str


async def _web(sessions: Sessions) -> _Web:
    central, network, _ = _top()
    web = central.add("security-groups", name="web")
    central.objects["security-group-rules"].clear()
    top = central.add("ports", network_id=network["id"], security_groups=[web["id"]])
    pod, pod_id = FakeNeutron("pod Pod1"), await _pod(sessions)
    realizer = _realizer(central, pod, pod_id, sessions, stale_after=1e9)
    await realizer.port(top, made_top=False)
    [copy] = [g["id"] for g in pod.made("security-groups") if g["name"] == web["id"]]
    return _Web(central, network, web, pod, pod_id, realizer, copy)


async def test_a_group_used_again_catches_up_with_changes_it_missed(sessions: Sessions) -> None:
    made = await _web(sessions)
    central, web, pod, copy = made.central, made.web, made.pod, made.copy
    assert _allowed(pod, copy) == []
    _rule(central, web["id"], protocol="icmp")  # changed while this pod was not told (down)
    second = central.add("ports", network_id=made.network["id"], security_groups=[web["id"]])
    await made.realizer.port(second, made_top=False)
    assert _allowed(pod, copy) == [("icmp", None, None)]


async def test_two_refreshes_at_once_make_each_missing_rule_once(sessions: Sessions) -> None:
    made = await _web(sessions)
    central, web, pod, pod_id, copy = made.central, made.web, made.pod, made.pod_id, made.copy
    for port in (22, 80):
        _rule(central, web["id"], protocol="tcp", port_range_min=port, port_range_max=port)
    one, two = (_realizer(central, pod, pod_id, sessions, stale_after=1e9) for _ in range(2))
    await asyncio.gather(one.refresh_rules(web["id"], copy), two.refresh_rules(web["id"], copy))
    assert _allowed(pod, copy) == [("tcp", 22, None), ("tcp", 80, None)]
