"""Stub Neutron (network v2.0): the version document and the basics of networks, ports and
security groups (list with filters, fields, sorting and pagination; show; create; delete)."""

from __future__ import annotations

import dataclasses
import random
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from stubpods import faults, paging
from stubpods.identity import Claims
from stubpods.seeds import network_record
from stubpods.store import PodState, Record, iso, now
from stubpods.web import NO_REQUEST_ID, claims_of, pod_of, root_url

NOT_FILTERS = ("limit", "marker", "sort_key", "sort_dir", "fields", "page_reverse")
HIDDEN = {"provider:network_type", "provider:physical_network", "provider:segmentation_id", "is_default"}
"""Kept in the record; shown to admins only (is_default only in a create's answer)."""


class NeutronError(Exception):
    def __init__(self, status: int, message: str, kind: str) -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


@dataclasses.dataclass(frozen=True)
class Collection:
    singular: str
    plural: str
    path: str
    not_found: str
    """The NeutronError type of a missing one; its message is `message % id`."""
    message: str
    create_fields: frozenset[str]
    store: Callable[[PodState], dict[str, Record]]


def _handle(fn: Any) -> Any:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            result: web.StreamResponse = await fn(request)
        except NeutronError as error:
            return faults.neutron(error.status, error.message, error.kind)
        return result

    wrapped.__name__ = fn.__name__
    return wrapped


async def versions(request: web.Request) -> web.Response:
    doc = {"id": "v2.0", "links": [{"href": f"{root_url(request)}/v2.0/", "rel": "self"}], "status": "CURRENT"}
    return faults.json_response(200, {"versions": [doc]})


def _view(record: Record, claims: Claims, fields: list[str]) -> dict[str, Any]:
    shown = {k: v for k, v in record.items() if k not in HIDDEN or (claims.is_admin and k != "is_default")}
    if fields:
        shown = {k: v for k, v in shown.items() if k in fields}
    return dict(sorted(shown.items()))


def _visible(collection: Collection, request: web.Request) -> list[Record]:
    claims = claims_of(request)
    records = collection.store(pod_of(request).state).values()
    if claims.is_admin:
        return list(records)
    return [r for r in records if r["project_id"] == claims.project.id or r.get("shared")]


def _sorts(request: web.Request, known: set[str]) -> list[paging.SortKey]:
    keys = request.query.getall("sort_key", [])
    dirs = request.query.getall("sort_dir", [])
    if len(keys) != len(dirs):
        raise NeutronError(400, "The number of sort_keys and sort_dirs must be same", "HTTPBadRequest")
    absent = [k for k in keys if k not in known]
    if absent:
        raise NeutronError(400, f"{absent} is invalid attribute for sort_keys", "HTTPBadRequest")
    if any(d not in ("asc", "desc") for d in dirs):
        raise NeutronError(
            400, f"{dirs} is invalid value for sort_dirs, valid value is 'asc' and 'desc'", "HTTPBadRequest"
        )
    sorts = [paging.SortKey(k, d == "desc") for k, d in zip(keys, dirs, strict=True)]
    if "id" not in keys:
        sorts.append(paging.SortKey("id", False))
    return sorts


def _links(request: web.Request, items: list[Record], limit: int) -> list[dict[str, str]]:
    base = f"{root_url(request)}/v2.0/{request.path.rsplit('/', 1)[1]}"
    params = [(k, v) for k, v in request.query.items() if k not in ("marker", "page_reverse")]
    result = []
    if len(items) >= limit and items:
        result.append(
            {"href": f"{base}?{urllib.parse.urlencode([*params, ('marker', items[-1]['id'])])}", "rel": "next"}
        )
    if items:
        query = urllib.parse.urlencode([*params, ("marker", items[0]["id"]), ("page_reverse", "True")])
        result.append({"href": f"{base}?{query}", "rel": "previous"})
    return result


def list_handler(collection: Collection) -> Any:
    @_handle
    async def handle(request: web.Request) -> web.Response:
        visible = _visible(collection, request)
        known = set().union(*(r.keys() for r in visible)) | {"id", "name", "project_id", "tenant_id"}
        filters = {k: request.query.getall(k) for k in request.query if k not in NOT_FILTERS}
        for key, values in filters.items():
            if key not in known:
                raise NeutronError(400, f"[{key}] is invalid attribute for filtering", "HTTPBadRequest")
            visible = [
                r
                for r in visible
                if str(r.get(key)) in values or (r.get(key) in (True, False) and str(r[key]).lower() in values)
            ]
        limit = None
        if "limit" in request.query:
            try:
                limit = int(request.query["limit"])
            except ValueError:
                raise NeutronError(400, f"'{request.query['limit']}' is not an integer", "HTTPBadRequest") from None
            limit = limit if limit > 0 else None
        marker = None
        if "marker" in request.query and limit is not None:
            marker = collection.store(pod_of(request).state).get(request.query["marker"])
            if marker is None:
                raise NeutronError(404, collection.message % request.query["marker"], collection.not_found)
        items = paging.page(visible, _sorts(request, known), limit=limit, marker=marker)
        fields = request.query.getall("fields", [])
        body: dict[str, Any] = {collection.plural: [_view(r, claims_of(request), fields) for r in items]}
        if limit is not None:
            body[f"{collection.plural}_links"] = _links(request, list(items), limit)
        return faults.json_response(200, body)

    return handle


def _find(collection: Collection, request: web.Request) -> Record:
    item_id = request.match_info["item_id"]
    record = collection.store(pod_of(request).state).get(item_id)
    claims = claims_of(request)
    if record is None or not (claims.is_admin or record["project_id"] == claims.project.id or record.get("shared")):
        raise NeutronError(404, collection.message % item_id, collection.not_found)
    return record


def show_handler(collection: Collection) -> Any:
    @_handle
    async def handle(request: web.Request) -> web.Response:
        record = _find(collection, request)
        fields = request.query.getall("fields", [])
        return faults.json_response(200, {collection.singular: _view(record, claims_of(request), fields)})

    return handle


def delete_handler(collection: Collection) -> Any:
    @_handle
    async def handle(request: web.Request) -> web.Response:
        record = _find(collection, request)
        store = collection.store(pod_of(request).state)
        if collection.singular == "network" and any(
            p["network_id"] == record["id"] for p in pod_of(request).state.ports.values()
        ):
            raise NeutronError(409, f"Unable to complete operation on network {record['id']}. There are one or more "
                               "ports still in use on the network.", "NetworkInUse")  # fmt: skip
        del store[record["id"]]
        return web.Response(status=204)

    return handle


def create_handler(collection: Collection, build: Callable[[web.Request, dict[str, Any]], Record]) -> Any:
    @_handle
    async def handle(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            raise NeutronError(400, "Malformed JSON in request body", "HTTPBadRequest") from None
        spec = body.get(collection.singular) if isinstance(body, dict) else None
        if not isinstance(spec, dict):
            raise NeutronError(400, "Resource body required", "HTTPBadRequest")
        unknown = sorted(set(spec) - collection.create_fields)
        if unknown:
            raise NeutronError(400, f"Unrecognized attribute(s) '{', '.join(unknown)}'", "HTTPBadRequest")
        record = build(request, spec)
        collection.store(pod_of(request).state)[record["id"]] = record
        view = _view(record, claims_of(request), [])
        if "is_default" in record:
            view = dict(sorted({**view, "is_default": record["is_default"]}.items()))
        return faults.json_response(201, {collection.singular: view})

    return handle


def _owner(request: web.Request, spec: dict[str, Any]) -> str:
    claims = claims_of(request)
    owner = spec.get("project_id") or spec.get("tenant_id") or claims.project.id
    if owner != claims.project.id and not claims.is_admin:
        raise NeutronError(403, "Policy doesn't allow this operation to be performed.", "PolicyNotAuthorized")
    return str(owner)


def build_network(request: web.Request, spec: dict[str, Any]) -> Record:
    record = network_record(str(uuid.uuid4()), spec.get("name", ""), _owner(request, spec), iso(now()), 0)
    for key in ("admin_state_up", "description", "shared", "mtu", "port_security_enabled", "router:external"):
        if key in spec:
            record[key] = spec[key]
    return record


def _default_sg(state: PodState, project_id: str) -> list[str]:
    return [
        sg["id"] for sg in state.security_groups.values() if sg["project_id"] == project_id and sg["name"] == "default"
    ]


def build_port(request: web.Request, spec: dict[str, Any]) -> Record:
    state = pod_of(request).state
    network = state.networks.get(str(spec.get("network_id")))
    if network is None:
        raise NeutronError(404, f"Network {spec.get('network_id')} could not be found.", "NetworkNotFound")
    owner = _owner(request, spec)
    stamp = iso(now())
    octets = [random.randrange(256) for _ in range(3)]  # noqa: S311 - a MAC address, not a secret
    mac = "fa:16:3e:" + ":".join(f"{octet:02x}" for octet in octets)
    return {
        "admin_state_up": spec.get("admin_state_up", True),
        "allowed_address_pairs": [],
        "binding:vnic_type": "normal",
        "created_at": stamp,
        "description": spec.get("description", ""),
        "device_id": spec.get("device_id", ""),
        "device_owner": spec.get("device_owner", ""),
        "extra_dhcp_opts": [],
        "fixed_ips": list(spec.get("fixed_ips", [])),
        "id": str(uuid.uuid4()),
        "ip_allocation": "immediate",
        "mac_address": spec.get("mac_address", mac),
        "name": spec.get("name", ""),
        "network_id": network["id"],
        "port_security_enabled": True,
        "project_id": owner,
        "revision_number": 1,
        "security_groups": list(spec.get("security_groups", _default_sg(state, owner))),
        "status": "DOWN",
        "tags": [],
        "tenant_id": owner,
        "updated_at": stamp,
    }


def build_security_group(request: web.Request, spec: dict[str, Any]) -> Record:
    owner = _owner(request, spec)
    stamp = iso(now())
    sg_id = str(uuid.uuid4())
    rules: list[dict[str, Any]] = [
        {
            "belongs_to_default_sg": False,
            "created_at": stamp,
            "description": None,
            "direction": "egress",
            "ethertype": ethertype,
            "id": str(uuid.uuid4()),
            "normalized_cidr": None,
            "port_range_max": None,
            "port_range_min": None,
            "project_id": owner,
            "protocol": None,
            "remote_address_group_id": None,
            "remote_group_id": None,
            "remote_ip_prefix": None,
            "revision_number": 0,
            "security_group_id": sg_id,
            "standard_attr_id": 1,
            "tags": [],
            "tenant_id": owner,
            "updated_at": stamp,
        }
        for ethertype in ("IPv4", "IPv6")
    ]
    return {
        "created_at": stamp,
        "description": spec.get("description", ""),
        "id": sg_id,
        "name": spec.get("name", ""),
        "project_id": owner,
        "revision_number": 1,
        "security_group_rules": rules,
        "shared": False,
        "stateful": spec.get("stateful", True),
        "tags": [],
        "tenant_id": owner,
        "updated_at": stamp,
    }


NETWORKS = Collection(
    "network", "networks", "networks", "NetworkNotFound", "Network %s could not be found.",
    frozenset({"name", "admin_state_up", "description", "shared", "mtu", "port_security_enabled", "project_id",
               "tenant_id", "router:external", "availability_zone_hints"}),
    lambda s: s.networks,
)  # fmt: skip
PORTS = Collection(
    "port", "ports", "ports", "PortNotFound", "Port %s could not be found.",
    frozenset({"name", "network_id", "admin_state_up", "description", "device_id", "device_owner", "fixed_ips",
               "mac_address", "project_id", "tenant_id", "security_groups"}),
    lambda s: s.ports,
)  # fmt: skip
SECURITY_GROUPS = Collection(
    "security_group", "security_groups", "security-groups", "SecurityGroupNotFound",
    "Security group %s does not exist", frozenset({"name", "description", "project_id", "tenant_id", "stateful"}),
    lambda s: s.security_groups,
)  # fmt: skip
BUILDERS = {"network": build_network, "port": build_port, "security_group": build_security_group}


def routes() -> list[web.RouteDef]:
    result = [
        web.get("/networking", versions, name=NO_REQUEST_ID + "neutron-versions-bare"),
        web.get("/networking/", versions, name=NO_REQUEST_ID + "neutron-versions"),
    ]
    for collection in (NETWORKS, PORTS, SECURITY_GROUPS):
        base = f"/networking/v2.0/{collection.path}"
        result += [
            web.get(base, list_handler(collection)),
            web.post(base, create_handler(collection, BUILDERS[collection.singular])),
            web.get(base + "/{item_id}", show_handler(collection)),
            web.delete(base + "/{item_id}", delete_handler(collection)),
        ]
    return result
