"""A small in-memory Neutron: `call` implements `atoll.network.Neutron`; `pod()` serves the same
objects on loopback for the gateway's tests. Enough of Neutron's behaviour to matter here:
IP and MAC allocation, a project's default group (made when it lists groups or makes a
port), Neutron's default egress rules on a new group, filters (repeated keys are ORed) and
`fields`, NeutronError bodies, and the policy that a member cannot delete a port owned by
`compute:*`."""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import json
import uuid
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from atoll.pods.client import PodResponse
from tests.unit.pods.fakepod import FakePod

COLLECTIONS = ("networks", "subnets", "ports", "security-groups", "security-group-rules")
PROJECT = "project-a"


def _response(status: int, document: Any = None) -> PodResponse:
    body = b"" if document is None else json.dumps(document).encode()
    return PodResponse(status, CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"})), body)


def _error(status: int, kind: str, message: str) -> PodResponse:
    return _response(status, {"NeutronError": {"type": kind, "message": message, "detail": ""}})


def _key(collection: str) -> str:
    return collection.replace("-", "_")


def _member(collection: str) -> str:
    return _key(collection)[:-1]


def _allows(rule: dict[str, Any]) -> tuple[Any, ...]:
    fields = ("security_group_id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max")
    return tuple(rule.get(k) for k in (*fields, "remote_ip_prefix", "remote_group_id"))


class FakeNeutron:
    def __init__(self, name: str = "fake Neutron") -> None:
        self.name = name
        self.objects: dict[str, dict[str, dict[str, Any]]] = {c: {} for c in COLLECTIONS}
        self.calls: list[tuple[str, str, Any]] = []
        self.refuse: dict[tuple[str, str], int] = {}
        """(method, collection) -> the status this Neutron answers instead."""
        self._macs = itertools.count(1)

    # -- Neutron -------------------------------------------------------------------------------
    async def call(
        self, method: str, path: str, *, json_body: Any = None, query: Sequence[tuple[str, str]] = ()
    ) -> PodResponse:
        self.calls.append((method, path, json_body))
        await asyncio.sleep(0)  # as over a network: concurrent callers interleave
        parts = path.strip("/").split("/")
        collection, item_id = parts[0], (parts[1] if len(parts) > 1 else None)
        if collection not in self.objects:
            return _error(404, "HTTPNotFound", "The resource could not be found.")
        if (method, collection) in self.refuse:
            return _error(self.refuse[(method, collection)], "BadRequest", f"{collection} refused by the test")
        if item_id is None:
            if method == "GET":
                return self._list(collection, query)
            if method == "POST":
                return self._create(collection, json_body)
        item = self.objects[collection].get(item_id or "")
        if item is None:
            return _error(
                404, f"{_member(collection).title()}NotFound", f"{_member(collection)} {item_id} could not be found."
            )
        if method == "GET":
            return _response(200, {_member(collection): self._shown(collection, item)})
        if method == "PUT":
            item.update(json_body[_member(collection)])
            return _response(200, {_member(collection): item})
        if method == "DELETE":
            if collection == "ports" and str(item.get("device_owner", "")).startswith("compute:"):
                return _error(403, "PolicyNotAuthorized", "rule:delete_port is disallowed by policy")
            del self.objects[collection][item_id or ""]
            return _response(204)
        return _error(405, "HTTPMethodNotAllowed", "not allowed")

    # -- helpers -------------------------------------------------------------------------------
    def made(self, collection: str) -> list[dict[str, Any]]:
        return list(self.objects[collection].values())

    def posts(self, collection: str) -> int:
        return sum(1 for m, p, _ in self.calls if m == "POST" and p == f"/{collection}")

    def add(self, collection: str, **fields: Any) -> dict[str, Any]:
        return self._make(collection, dict(fields))

    def add_rule(self, group: str, **fields: Any) -> dict[str, Any]:
        """An IPv4 ingress rule of `group` (unless `fields` say otherwise)."""
        rule = {"security_group_id": group, "direction": "ingress", "ethertype": "IPv4"} | fields
        return self._make("security-group-rules", rule)

    def _shown(self, collection: str, item: dict[str, Any]) -> dict[str, Any]:
        if collection == "security-groups":
            rules = [r for r in self.objects["security-group-rules"].values() if r["security_group_id"] == item["id"]]
            return item | {"security_group_rules": rules}
        return item

    def _list(self, collection: str, query: Sequence[tuple[str, str]]) -> PodResponse:
        if collection == "security-groups":
            self._default_group(PROJECT)  # Neutron makes the caller's default group when it lists groups
        filters: dict[str, set[str]] = {}
        fields: list[str] = []
        for name, value in query:
            if name == "fields":
                fields.append(value)
            else:
                filters.setdefault(name, set()).add(value)
        items = [
            self._shown(collection, item)
            for item in self.objects[collection].values()
            if all(str(item.get(name)) in values for name, values in filters.items())
        ]
        if fields:
            items = [{k: v for k, v in item.items() if k in fields} for item in items]
        return _response(200, {_key(collection): items})

    def _create(self, collection: str, body: Any) -> PodResponse:
        if collection == "ports":
            port = body["port"]
            if port["network_id"] not in self.objects["networks"]:
                return _error(404, "NetworkNotFound", f"Network {port['network_id']} could not be found.")
            for group in port.get("security_groups") or []:
                if group not in self.objects["security-groups"]:
                    return _error(404, "SecurityGroupNotFound", f"Security group {group} does not exist")
        if collection == "security-group-rules":
            # Neutron refuses a rule its group already has (all of a bulk create, then).
            asked = body["security_group_rules"] if "security_group_rules" in body else [body["security_group_rule"]]
            for rule in asked:
                if any(_allows(rule) == _allows(r) for r in self.objects[collection].values()):
                    return _error(409, "SecurityGroupRuleExists", "Security group rule already exists.")
        if collection == "security-group-rules" and "security_group_rules" in body:
            made = [self._make(collection, dict(rule)) for rule in body["security_group_rules"]]
            return _response(201, {"security_group_rules": made})
        return _response(201, {_member(collection): self._make(collection, dict(body[_member(collection)]))})

    def _make(self, collection: str, item: dict[str, Any]) -> dict[str, Any]:
        item.setdefault("id", str(uuid.uuid4()))
        item.setdefault("project_id", PROJECT)
        item.setdefault("name", "")
        item.setdefault("description", "")
        if collection == "networks":
            item.setdefault("subnets", [])
            item.setdefault("mtu", 1500)
            item.setdefault("admin_state_up", True)
            item.setdefault("shared", False)
            item.setdefault("router:external", False)
        elif collection == "subnets":
            self.objects["networks"][item["network_id"]]["subnets"].append(item["id"])
            network = ipaddress.ip_network(item["cidr"])
            item.setdefault("ip_version", network.version)
            item.setdefault("gateway_ip", str(network[1]))
            item.setdefault("allocation_pools", [{"start": str(network[2]), "end": str(network[-2])}])
            item.setdefault("enable_dhcp", True)
            item.setdefault("dns_nameservers", [])
            item.setdefault("host_routes", [])
        elif collection == "security-groups":
            self.objects[collection][item["id"]] = item
            for ethertype in ("IPv4", "IPv6"):
                self._make(
                    "security-group-rules",
                    {"security_group_id": item["id"], "direction": "egress", "ethertype": ethertype},
                )
            return item
        elif collection == "ports":
            item.setdefault("mac_address", f"fa:16:3e:00:00:{next(self._macs):02x}")
            item.setdefault("fixed_ips", [])
            item["fixed_ips"] = [self._ip(item["network_id"], f) for f in item["fixed_ips"]] or self._any_ip(
                item["network_id"]
            )
            if "security_groups" not in item:
                item["security_groups"] = [self._default_group(item["project_id"])]
            item.setdefault("device_id", "")
            item.setdefault("device_owner", "")
            item.setdefault("admin_state_up", True)
        elif collection == "security-group-rules":
            for key in ("protocol", "port_range_min", "port_range_max", "remote_ip_prefix", "remote_group_id"):
                item.setdefault(key, None)
        self.objects[collection][item["id"]] = item
        return item

    def _subnets(self, network_id: str) -> list[dict[str, Any]]:
        return [s for s in self.objects["subnets"].values() if s["network_id"] == network_id]

    def _ip(self, network_id: str, wanted: dict[str, Any]) -> dict[str, Any]:
        subnet = wanted.get("subnet_id") or self._subnets(network_id)[0]["id"]
        return {"subnet_id": subnet, "ip_address": wanted.get("ip_address") or self._free(subnet)}

    def _any_ip(self, network_id: str) -> list[dict[str, Any]]:
        return [{"subnet_id": s["id"], "ip_address": self._free(s["id"])} for s in self._subnets(network_id)[:1]]

    def _free(self, subnet_id: str) -> str:
        used = {f["ip_address"] for p in self.objects["ports"].values() for f in p["fixed_ips"]}
        network = ipaddress.ip_network(self.objects["subnets"][subnet_id]["cidr"])
        return next(str(ip) for ip in itertools.islice(network.hosts(), 9, None) if str(ip) not in used)

    def _default_group(self, project: str) -> str:
        for group in self.objects["security-groups"].values():
            if group["name"] == "default" and group["project_id"] == project:
                return str(group["id"])
        group = self._make("security-groups", {"name": "default", "project_id": project})
        self._make(
            "security-group-rules",
            {
                "security_group_id": group["id"],
                "direction": "ingress",
                "ethertype": "IPv4",
                "remote_group_id": group["id"],
            },
        )
        return str(group["id"])

    # -- on loopback ---------------------------------------------------------------------------
    def pod(self) -> FakePod:
        served = FakePod()

        async def handle(request: web.Request) -> web.StreamResponse:
            body = await request.json() if request.can_read_body else None
            query = list(request.query.items())
            answer = await self.call(request.method, "/" + request.match_info["rest"], json_body=body, query=query)
            return web.Response(status=answer.status, body=answer.body, content_type="application/json")

        served.route("*", "/v2.0/{rest:.*}", handle)
        return served
