"""The bottom copies of top Neutron objects in one pod, made with the caller's token.

    network        name = top id, same MTU, admin state, port security; each of its
                   subnets: name = top id, same CIDR, gateway, allocation pools, DNS
                   servers, host routes. DHCP off (IPv6 SLAAC subnets keep their modes):
                   the pod's DHCP port would take an address that the central IPAM may
                   give to another port; the addresses are the central Neutron's.
    security group name = top id, its rules made the top group's (a rule naming a group
                   names that group's bottom copy, realized too), again whenever a server
                   uses it and when a rule changes through Atoll (`refresh_rules`)
    port           name = top id, on the bottom network, with the top port's fixed IPs
                   (on the bottom subnets) and MAC, and its groups' bottom copies

Every copy is made once per pod (`Once`): its routing (top id -> pod, bottom id) is
reserved, then confirmed. A port's description says whether Atoll made its top port,
so deleting the server knows whether the top port goes too.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

from atoll.core.errors import BadRequest, Conflict, NotFound
from atoll.network import neutron
from atoll.network.neutron import Neutron
from atoll.network.once import Make, Once
from atoll.types import PodId, ProjectId, ResourceType

MADE_TOP_PORT = "Atoll: bottom copy of a top port that Atoll made for a server"
GIVEN_TOP_PORT = "Atoll: bottom copy of a top port given by the user"

_NETWORK_FIELDS = ("admin_state_up", "mtu", "port_security_enabled")
_SUBNET_FIELDS = ("cidr", "ip_version", "gateway_ip", "allocation_pools", "dns_nameservers", "host_routes")
_RULE_FIELDS = (
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "description",
)


def _allows(rule: dict[str, Any]) -> tuple[Any, ...]:
    """What a rule allows: the fields Neutron compares to refuse a duplicate rule."""
    return tuple(rule.get(k) for k in (*_RULE_FIELDS[:-1], "remote_group_id"))


def _copy(top: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: top[k] for k in fields if top.get(k) is not None}


@dataclasses.dataclass(frozen=True)
class RealizedPort:
    top_id: str
    bottom_id: str


@dataclasses.dataclass
class Realizer:
    """Realizes top objects in one pod for one caller (`project_id`: whose routings they are)."""

    central: Neutron
    pod: Neutron
    pod_id: PodId
    project_id: ProjectId
    once: Once

    async def _once(self, top_id: str, kind: ResourceType, make: Make) -> str:
        return await self.once.bottom_id(top_id, kind, self.pod_id, self.project_id, make)

    async def _existing(self, collection: str, query: list[tuple[str, str]]) -> str | None:
        """A bottom copy made before a crash (between the pod's answer and the confirmation)."""
        found = await neutron.find(self.pod, collection, query)
        return str(found[0]["id"]) if found else None

    # --- networks and subnets ----------------------------------------------------------------

    async def network(self, top_id: str) -> tuple[str, dict[str, str]]:
        """The bottom network of a top network, and its subnets' bottom ids by top id."""
        top = await neutron.show(self.central, "networks", top_id)
        if top is None:
            raise NotFound(f"Network {top_id} could not be found.")

        async def make() -> str:
            existing = await self._existing("networks", [("name", top_id)])
            if existing is not None:
                return existing
            body = {"network": {"name": top_id, **_copy(top, _NETWORK_FIELDS)}}
            made = await neutron.call(self.pod, "POST", "/networks", json_body=body)
            return str(made["network"]["id"])

        bottom = await self._once(top_id, ResourceType.NETWORK, make)
        subnets = {sub: await self.subnet(sub, bottom) for sub in top.get("subnets") or []}
        return bottom, subnets

    async def subnet(self, top_id: str, bottom_network: str) -> str:
        async def make() -> str:
            existing = await self._existing("subnets", [("name", top_id), ("network_id", bottom_network)])
            if existing is not None:
                return existing
            top = await neutron.show(self.central, "subnets", top_id)
            if top is None:
                raise NotFound(f"Subnet {top_id} could not be found.")
            body = {"network_id": bottom_network, "name": top_id, **_copy(top, _SUBNET_FIELDS)}
            modes = _copy(top, ("ipv6_ra_mode", "ipv6_address_mode"))
            body |= modes | {"enable_dhcp": bool(modes) and bool(top.get("enable_dhcp"))}
            made = await neutron.call(self.pod, "POST", "/subnets", json_body={"subnet": body})
            return str(made["subnet"]["id"])

        return await self._once(top_id, ResourceType.SUBNET, make)

    # --- security groups -----------------------------------------------------------------------

    async def security_group(self, top_id: str, making: dict[str, str] | None = None) -> str:
        """`making`: groups whose copy this call is making or bringing up to date, for rules that
        name each other; without it, two groups naming each other would wait on themselves. A
        copy made earlier gets the top group's rules now (a pod that was down when a rule
        changed catches up when a server there next uses the group)."""
        making = {} if making is None else making
        if top_id in making:
            return making[top_id]
        made: list[dict[str, Any]] = []

        async def make() -> str:
            top = await neutron.show(self.central, "security-groups", top_id)
            if top is None:
                raise NotFound(f"Security group {top_id} could not be found.")
            bottom = await self._existing("security-groups", [("name", top_id)])
            if bottom is None:
                body = {"name": top_id, "description": top.get("description") or ""}
                if top.get("stateful") is False:
                    body["stateful"] = False
                created = await neutron.call(self.pod, "POST", "/security-groups", json_body={"security_group": body})
                bottom = str(created["security_group"]["id"])
            making[top_id] = bottom
            made.append(top)
            await self._sync_rules(top, bottom, making)
            return bottom

        bottom = await self._once(top_id, ResourceType.SECURITY_GROUP, make)
        if not made:
            await self.refresh_rules(top_id, bottom, making)
        return bottom

    async def refresh_rules(self, top_id: str, bottom: str, making: dict[str, str] | None = None) -> None:
        """The copy `bottom` of the top group given the top group's rules as they are now."""
        making = {} if making is None else making
        making[top_id] = bottom
        top = await neutron.show(self.central, "security-groups", top_id)
        if top is not None:  # else it is being deleted, and its copies with it
            await self._sync_rules(top, bottom, making)

    async def _sync_rules(self, top: dict[str, Any], bottom: str, making: dict[str, str]) -> None:
        """The copy's rules made the top group's: the missing ones added, the others deleted (a
        rule is what it allows; a new group's default egress rules stay when the top has them)."""
        wanted: dict[tuple[Any, ...], dict[str, Any]] = {}
        for rule in top.get("security_group_rules") or []:
            if rule.get("remote_address_group_id"):
                raise BadRequest(
                    f"Security group {top['id']} has a rule with a remote address group; Atoll cannot "
                    "realize address groups in pods yet."
                )
            copied = {"security_group_id": bottom, **_copy(rule, _RULE_FIELDS)}
            if rule.get("remote_group_id"):
                copied["remote_group_id"] = await self.security_group(rule["remote_group_id"], making)
            wanted[_allows(copied)] = copied
        have = {
            _allows(rule): rule
            for rule in await neutron.find(self.pod, "security-group-rules", [("security_group_id", bottom)])
        }
        for key, rule in have.items():
            if key not in wanted:
                with contextlib.suppress(NotFound):  # a concurrent refresh deleted it first
                    await neutron.call(self.pod, "DELETE", f"/security-group-rules/{rule['id']}")
        missing = [rule for key, rule in wanted.items() if key not in have]
        if not missing:
            return
        try:
            await neutron.call(self.pod, "POST", "/security-group-rules", json_body={"security_group_rules": missing})
        except Conflict:  # a concurrent refresh made one of them first (a bulk create makes all or none)
            for rule in missing:
                with contextlib.suppress(Conflict):
                    one = {"security_group_rule": rule}
                    await neutron.call(self.pod, "POST", "/security-group-rules", json_body=one)

    # --- ports ---------------------------------------------------------------------------------

    async def port(self, top: dict[str, Any], *, made_top: bool) -> RealizedPort:
        """The bottom copy of a top port (a `port` document of the central Neutron). A copy of
        its network, subnets or groups deleted behind Atoll's back (the pod refuses the port
        with a 404) loses its routing and is made again, once."""
        try:
            return await self._port(top, made_top=made_top)
        except NotFound:
            await self._forget(top)
            return await self._port(top, made_top=made_top)

    async def _forget(self, top: dict[str, Any]) -> None:
        network = await neutron.show(self.central, "networks", str(top["network_id"]))
        stale = [(str(top["network_id"]), ResourceType.NETWORK)]
        stale += [(s, ResourceType.SUBNET) for s in (network or {}).get("subnets") or []]
        stale += [(g, ResourceType.SECURITY_GROUP) for g in top.get("security_groups") or []]
        for top_id, kind in stale:
            await self.once.routings.forget_in(top_id, kind, self.pod_id)

    async def _port(self, top: dict[str, Any], *, made_top: bool) -> RealizedPort:
        top_id = str(top["id"])
        network, subnets = await self.network(str(top["network_id"]))
        groups = [await self.security_group(g) for g in top.get("security_groups") or []]
        top_ips = top.get("fixed_ips") or []

        async def make() -> str:
            existing = await self._existing("ports", [("name", top_id), ("network_id", network)])
            if existing is not None:
                return existing
            fixed_ips = [{"subnet_id": subnets[f["subnet_id"]], "ip_address": f["ip_address"]} for f in top_ips]
            body: dict[str, Any] = {
                "network_id": network,
                "name": top_id,
                "mac_address": top["mac_address"],
                "fixed_ips": fixed_ips,
                "description": MADE_TOP_PORT if made_top else GIVEN_TOP_PORT,
                **_copy(top, ("admin_state_up", "port_security_enabled", "allowed_address_pairs")),
            }
            if top.get("port_security_enabled") is not False:
                body["security_groups"] = groups
            made = await neutron.call(self.pod, "POST", "/ports", json_body={"port": body})
            return str(made["port"]["id"])

        return RealizedPort(top_id, await self._once(top_id, ResourceType.PORT, make))

    async def remove_port(self, top_id: str) -> bool | None:
        """Delete the bottom copy of a top port, and its routing. Whether Atoll made the top
        port (so it goes too); None when the pod has no copy of it."""
        route = await self.once.routings.lookup_in(top_id, ResourceType.PORT, self.pod_id)
        if route is None:
            return None
        bottom = await neutron.show(self.pod, "ports", route.bottom_id)
        if bottom is not None:
            await neutron.delete_port(self.pod, route.bottom_id)
        await self.once.routings.forget_in(top_id, ResourceType.PORT, self.pod_id)
        return bottom is not None and bottom.get("description") == MADE_TOP_PORT
