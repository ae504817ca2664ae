"""A server's networks: top ports realized in its pod, and shown as the top ones.

create   `networks: [{"uuid": top net, "fixed_ip"?}]`: a top port is made in the central
         Neutron (it allocates the IP and MAC) with the server's security groups;
         `[{"port": top port}]`: that port. Each is realized in the chosen pod (network,
         subnets, groups, a port with the same IPs and MAC) and the pod's Nova boots on the
         bottom port: the entry becomes `{"port": bottom port, "tag"?}`. The groups are the
         ports' (Nova applies a request's groups only to ports it makes itself, and makes
         none here), so `security_groups` is not sent on. `auto` (and no `networks` before
         microversion 2.37) is decided at the top as Nova decides it: the project's one
         available top network is used (a pod's Nova would pick the pod's copy and give the
         port an address from the pod's IPAM), several are a 409; with none the request goes
         on as sent. `none` goes through.
         A failed create deletes the bottom ports and the top ports Atoll made; a created
         server's top ports get its id as their `device_id`.
delete   the server's top ports (`device_id`): their bottom copies go, a top port Atoll
         made goes, a port the user gave is released (device_id/owner cleared), as Nova does.
replies  `addresses` keyed by a bottom network's name (the top id) show the top name.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from atoll.core import jsonfast
from atoll.core.errors import BadRequest, Conflict
from atoll.gateway import neutron as gateway_neutron
from atoll.gateway.deps import Gateway
from atoll.gateway.http import GatewayRequest, Reply
from atoll.gateway.pipeline import CreatePlan
from atoll.network import neutron
from atoll.network.neutron import Neutron
from atoll.network.once import Once
from atoll.network.realize import Realizer
from atoll.pods.info import PodInfo
from atoll.types import ProjectId

LOG = logging.getLogger(__name__)


def realizer_for(gw: Gateway, request: GatewayRequest, pod: PodInfo) -> Realizer:
    return Realizer(
        central=gateway_neutron.central(gw, request),
        pod=gateway_neutron.of_pod(gw, request, pod),
        pod_id=pod.pod_id,
        project_id=ProjectId(request.context.project_id or ""),
        once=Once(gw.routings),
    )


def _entries(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadRequest("Invalid input for field/attribute networks. It must be 'auto', 'none' or a list of objects.")
    return value


def _count(member: dict[str, Any]) -> int:
    counts = [member.get("min_count", 1), member.get("max_count", 1)]
    return max(int(c) if isinstance(c, int | str) and str(c).isdigit() else 1 for c in counts)


async def _group_ids(central: Neutron, groups: Any, project: str) -> list[str] | None:
    """The top ids of a create's `security_groups` (names or ids), None when it names none."""
    if groups is None:
        return None
    if not isinstance(groups, list) or not all(isinstance(g, dict) and isinstance(g.get("name"), str) for g in groups):
        raise BadRequest("Invalid input for field/attribute security_groups. It must be a list of {'name': ...}.")
    ids: list[str] = []
    for group in groups:
        name = group["name"]
        found = await neutron.find(central, "security-groups", [("name", name), ("project_id", project)])
        if not found:
            shown = await neutron.show(central, "security-groups", name)
            found = [shown] if shown is not None else []
        if not found:
            raise BadRequest(f"Unable to find security_group with name or id '{name}'")
        ids.append(str(found[0]["id"]))
    return list(dict.fromkeys(ids))


async def available(central: Neutron, project: str, *, auto: bool) -> list[dict[str, Any]]:
    """The top networks Nova would choose from: the project's own and the shared ones
    (without external networks when it allocates automatically)."""
    external = [("router:external", "False")] if auto else []
    own = await neutron.find(central, "networks", [("project_id", project), ("shared", "False"), *external])
    shared = await neutron.find(central, "networks", [("shared", "True"), *external])
    return own + shared


async def _chosen(gw: Gateway, plan: CreatePlan) -> Any:
    """The `networks` of the request, with `auto` (or none given, before 2.37) decided at the top."""
    entries = plan.member.get("networks")
    version = plan.request.microversion
    unspecified = entries is None and (version is None or (version.major, version.minor) < (2, 37))
    if not (entries == "auto" or unspecified) or gw.central_neutron() is None:
        return entries
    central = gateway_neutron.central(gw, plan.request)
    found = await available(central, plan.request.context.project_id or "", auto=entries == "auto")
    if len(found) > 1:
        raise Conflict(
            "More than one possible network found. Specify network ID(s) to select which one(s) to connect to."
        )
    return [{"uuid": found[0]["id"]}] if found else entries


async def realize_networks(gw: Gateway, plan: CreatePlan) -> None:
    """The prepare step of server create (see the module docstring)."""
    entries = await _chosen(gw, plan)
    if entries is None or isinstance(entries, str):
        return
    entries = _entries(entries)
    if not entries:
        return
    assert plan.pod is not None
    if _count(plan.member) > 1:
        raise BadRequest(
            "Atoll boots servers on networks one per request: min_count and max_count must be 1 with 'networks'."
        )
    realizer = realizer_for(gw, plan.request, plan.pod)
    central, project = realizer.central, realizer.project_id
    made: list[str] = []  # top ports Atoll made
    realized: list[str] = []  # top ports with a bottom copy in the pod

    async def undo() -> None:
        for top_id in realized:
            await realizer.remove_port(top_id)
        for top_id in made:
            await neutron.delete_port(central, top_id)

    plan.undo.append(undo)
    groups = await _group_ids(central, plan.member.get("security_groups"), project)
    rewritten = []
    for entry in entries:
        if entry.get("port"):
            port = await given_port(central, str(entry["port"]))
        elif entry.get("uuid"):
            port = await new_port(central, entry, groups)
            made.append(str(port["id"]))
        else:
            raise BadRequest("Invalid input for field/attribute networks: each entry needs a 'uuid' or a 'port'.")
        bottom = await realizer.port(port, made_top=entry.get("port") is None)
        realized.append(bottom.top_id)
        rewritten.append({"port": bottom.bottom_id} | ({"tag": entry["tag"]} if "tag" in entry else {}))
    plan.member["networks"] = rewritten
    plan.member.pop("security_groups", None)
    plan.done.append(claim(central, realized, plan.pod))


async def given_port(central: Neutron, port_id: str) -> dict[str, Any]:
    port = await neutron.show(central, "ports", port_id)
    if port is None:
        raise BadRequest(f"Port id {port_id} could not be found.")
    if port.get("device_id"):
        raise Conflict(f"Port {port_id} is still in use.")
    return port


async def new_port(central: Neutron, entry: dict[str, Any], groups: list[str] | None) -> dict[str, Any]:
    network_id = str(entry["uuid"])
    if await neutron.show(central, "networks", network_id) is None:
        raise BadRequest(f"Network {network_id} could not be found.")
    body: dict[str, Any] = {"network_id": network_id}
    if entry.get("fixed_ip"):
        body["fixed_ips"] = [{"ip_address": entry["fixed_ip"]}]
    if groups is not None:
        body["security_groups"] = groups
    made = await neutron.call(central, "POST", "/ports", json_body={"port": body})
    port: dict[str, Any] = made["port"]
    return port


def claim(central: Neutron, top_ports: list[str], pod: PodInfo) -> Callable[[str], Awaitable[None]]:
    """Marks the top ports as the server's (its id as `device_id`, owner `compute:<AZ>`)."""

    async def mark(server_id: str) -> None:
        owner = {"device_id": server_id, "device_owner": f"compute:{pod.az_name}"}
        for top_id in top_ports:
            response = await central.call("PUT", f"/ports/{top_id}", json_body={"port": owner})
            if response.status >= 300:
                LOG.warning("Top port %s of server %s kept no device_id: %s", top_id, server_id, response.status)

    return mark


async def release(gw: Gateway, request: GatewayRequest, pod: PodInfo, server_id: str) -> None:
    """After a server's delete: its bottom ports go, and its top ports go or are released.
    The server is gone whatever happens here: a failure is logged, not answered."""
    if gw.central_neutron() is None:
        return
    try:
        await _release(realizer_for(gw, request, pod), server_id)
    except Exception:
        LOG.warning("The ports of deleted server %s were not all freed", server_id, exc_info=True)


async def _release(realizer: Realizer, server_id: str) -> None:
    for port in await neutron.find(realizer.central, "ports", [("device_id", server_id)]):
        await release_port(realizer, str(port["id"]))


async def release_port(realizer: Realizer, top_id: str) -> None:
    """A port a server no longer uses: its copy goes; the top port goes if Atoll made it, else
    it is released (device_id and owner cleared), as Nova does with a port the user gave."""
    await _top_port_gone(realizer, top_id, made=await realizer.remove_port(top_id) is True)


async def free(realizer: Realizer, top_id: str, *, made: bool) -> None:
    """The copy of a top port goes (if any); the top port goes (`made`) or is released."""
    await realizer.remove_port(top_id)
    await _top_port_gone(realizer, top_id, made=made)


async def _top_port_gone(realizer: Realizer, top_id: str, *, made: bool) -> None:
    if made:
        await neutron.delete_port(realizer.central, top_id)
    else:
        cleared = {"port": {"device_id": "", "device_owner": ""}}
        await realizer.central.call("PUT", f"/ports/{top_id}", json_body=cleared)


# --- replies -----------------------------------------------------------------------------------

_UUID = rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ADDRESS_KEY = re.compile(rb'"(' + _UUID + rb')":\s*\[')
_GROUP_NAME = re.compile(rb'\{"name":\s*"(' + _UUID + rb')"\}')


def _servers(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    if isinstance(document.get("servers"), list):
        return [s for s in document["servers"] if isinstance(s, dict)]
    return [document["server"]] if isinstance(document.get("server"), dict) else []


def _address_maps(document: Any) -> list[dict[str, Any]]:
    """The `addresses` objects of a server, a server list or an `ips` reply."""
    servers = _servers(document)
    if servers:
        return [s["addresses"] for s in servers if isinstance(s.get("addresses"), dict)]
    if isinstance(document, dict) and isinstance(document.get("addresses"), dict):
        return [document["addresses"]]
    return [document] if isinstance(document, dict) else []  # GET .../ips/{network}: {"<name>": [...]}


async def top_names(gw: Gateway, request: GatewayRequest, reply: Reply) -> Reply:
    """Server replies with top names: `addresses` keyed by the top networks' names, not by their
    bottom copies' (the top ids), and `security_groups` named by the top groups' names."""
    if reply.status >= 300 or not isinstance(reply.body, bytes) or gw.central_neutron() is None:
        return reply
    network_ids = {m.decode() for m in _ADDRESS_KEY.findall(reply.body)}
    group_ids = {m.decode() for m in _GROUP_NAME.findall(reply.body)}
    if not network_ids and not group_ids:
        return reply
    central = gateway_neutron.central(gw, request)
    try:
        # Both at once: a server's show or list waits for one central Neutron round trip, not two.
        networks, groups = await asyncio.gather(
            gw.top_names.names(central, "networks", network_ids),
            gw.top_names.names(central, "security-groups", group_ids),
        )
    except Exception:
        LOG.warning("Top names for a server reply could not be read from the central Neutron", exc_info=True)
        return reply
    if not networks and not groups:
        return reply
    document = jsonfast.loads(reply.body)
    for addresses in _address_maps(document):
        for key in [k for k in addresses if k in networks]:
            # Nova groups addresses by network name: two networks of one name share a key.
            addresses.setdefault(networks[key], []).extend(addresses.pop(key))
    for server in _servers(document):
        for group in server.get("security_groups") or []:
            if isinstance(group, dict) and group.get("name") in groups:
                group["name"] = groups[group["name"]]
    reply.body = jsonfast.dumps(document)
    return reply


_UUID_TEXT = re.compile(_UUID.decode())


async def top_groups(gw: Gateway, request: GatewayRequest, reply: Reply) -> Reply:
    """A server's `os-security-groups` with the top groups' ids, names, descriptions and rule ids: the pod's Nova
    shows the pod's copies of the top groups, each named by its top group's id, with their own rule
    ids; a copy's rule is the top rule that allows the same (protocol, ports, range, group)."""
    if reply.status != 200 or not isinstance(reply.body, bytes) or gw.central_neutron() is None:
        return reply
    try:
        document = jsonfast.loads(reply.body)
    except ValueError:
        return reply
    listed = document.get("security_groups") if isinstance(document, dict) else None
    groups = [g for g in listed if isinstance(g, dict)] if isinstance(listed, list) else []
    tops = {g["id"]: g["name"] for g in groups if isinstance(g.get("name"), str) and _UUID_TEXT.fullmatch(g["name"])}
    if not tops:
        return reply
    central = gateway_neutron.central(gw, request)
    wanted = set(tops.values()) | {str(r["group"]["name"]) for g in groups for r in _rules(g) if _remote(r)}
    try:
        fields = [("fields", "id"), ("fields", "name"), ("fields", "description")]
        shown, rules = await asyncio.gather(
            neutron.find(central, "security-groups", [("id", i) for i in sorted(wanted)] + fields),
            neutron.find(central, "security-group-rules", [("security_group_id", t) for t in sorted(tops.values())]),
        )
    except Exception:
        LOG.warning("Top security groups for a server could not be read from the central Neutron", exc_info=True)
        return reply
    names = {str(g["id"]): g.get("name") or str(g["id"]) for g in shown}
    descriptions = {str(g["id"]): g.get("description") or "" for g in shown}
    top_rules = {_rule_key(rule): str(rule["id"]) for rule in rules if rule.get("direction") == "ingress"}
    for group in groups:
        top = tops.get(group.get("id"))
        if top is None or top not in names:
            continue
        group["id"], group["name"], group["description"] = top, names[top], descriptions[top]
        for rule in _rules(group):
            rule["parent_group_id"] = top
            remote = str(rule["group"]["name"]) if _remote(rule) else None
            if remote in names:
                rule["group"]["name"] = names[remote]
            found = top_rules.get(_nova_rule_key(top, rule, remote))
            if found is not None:
                rule["id"] = found
    reply.body = jsonfast.dumps(document)
    return reply


def _rules(group: dict[str, Any]) -> list[dict[str, Any]]:
    rules = group.get("rules")
    return [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []


def _remote(rule: dict[str, Any]) -> bool:
    group = rule.get("group")
    return isinstance(group, dict) and isinstance(group.get("name"), str)


def _rule_key(rule: dict[str, Any]) -> tuple[Any, ...]:
    """What a Neutron ingress rule allows, as Nova's view of it says it (Nova's own conversion: a
    protocol without ports is 1-65535 for TCP and UDP, else -1; no prefix is 0.0.0.0/0)."""
    protocol, low, high = rule.get("protocol"), rule.get("port_range_min"), rule.get("port_range_max")
    if protocol and low is None and high is None:
        low, high = (1, 65535) if str(protocol).upper() in ("TCP", "UDP") else (-1, -1)
    remote = rule.get("remote_group_id")
    cidr = None if remote is not None else (rule.get("remote_ip_prefix") or "0.0.0.0/0")
    return (rule.get("security_group_id"), protocol, low, high, cidr, remote)


def _nova_rule_key(top: str, rule: dict[str, Any], remote: str | None) -> tuple[Any, ...]:
    """The same of a rule in Nova's shape (`ip_protocol`, `from_port`, `to_port`, `ip_range`, `group`),
    its remote group a top id (a copy is named by its top group's id)."""
    ip_range = rule.get("ip_range")
    cidr = ip_range.get("cidr") if isinstance(ip_range, dict) and remote is None else None
    return (top, rule.get("ip_protocol"), rule.get("from_port"), rule.get("to_port"), cidr, remote)
