"""Stub Nova: flavors (with extra specs and tenant access), keypairs, availability zones, limits."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

from aiohttp import web

from stubpods import microversions, paging
from stubpods.identity import PROJECTS, Claims
from stubpods.microversions import Version
from stubpods.novaapi import NovaError, empty, handler, limit_of, links, next_links, ok, page
from stubpods.seeds import flavor_record
from stubpods.store import now
from stubpods.web import claims_of, pod_of


def _since(version: Version, text: str) -> bool:
    return version >= microversions.parse(text)


def _admin(claims: Claims, rule: str) -> None:
    if not claims.is_admin:
        raise NovaError(403, f"Policy doesn't allow os_compute_api:{rule} to be performed.")


# -- flavors --------------------------------------------------------------------------------------
def flavor_view(request: web.Request, flavor: dict[str, Any], version: Version) -> dict[str, Any]:
    view: dict[str, Any] = {
        "OS-FLV-EXT-DATA:ephemeral": flavor["ephemeral"],
        "disk": flavor["disk"],
        "id": flavor["id"],
        "links": links(request, "flavors", flavor["id"]),
        "name": flavor["name"],
        "os-flavor-access:is_public": flavor["is_public"],
        "ram": flavor["ram"],
        "vcpus": flavor["vcpus"],
    }
    if _since(version, "2.75"):
        view["swap"] = flavor["swap"]
    else:
        view.update({"OS-FLV-DISABLED:disabled": flavor["disabled"], "rxtx_factor": flavor["rxtx_factor"]})
        view["swap"] = flavor["swap"] or ""
    if _since(version, "2.55"):
        view["description"] = flavor["description"]
    if _since(version, "2.61"):
        view["extra_specs"] = dict(flavor["extra_specs"])
    return dict(sorted(view.items()))


def _visible_flavors(request: web.Request, claims: Claims) -> list[dict[str, Any]]:
    flavors = pod_of(request).state.flavors.values()
    wanted = request.query.get("is_public", "true").lower()
    if claims.is_admin and wanted in ("none", ""):
        return list(flavors)
    public = wanted not in ("false", "0", "f", "no", "n", "off")
    return [
        f for f in flavors if f["is_public"] == public or (not claims.is_admin and claims.project.id in f["projects"])
    ]


async def _flavor_list(request: web.Request, version: Version, *, detail: bool) -> web.Response:
    visible = _visible_flavors(request, claims_of(request))
    key = request.query.get("sort_key", "flavorid")
    if key not in ("created_at", "description", "disk", "ephemeral_gb", "flavorid", "id", "memory_mb", "name",
                   "root_gb", "rxtx_factor", "swap", "updated_at", "vcpu_weight", "vcpus"):  # fmt: skip
        raise NovaError(400, f"Invalid input for query parameters sort_key. Value: {key}.")
    column = {"memory_mb": "ram", "root_gb": "disk", "ephemeral_gb": "ephemeral", "id": "flavorid"}.get(key, key)
    keys = [paging.SortKey(column, request.query.get("sort_dir", "asc") == "desc")]
    limit = limit_of(request)
    by_id = {f["id"]: f for f in pod_of(request).state.flavors.values()}
    items = page(request, visible, keys, limit, by_id.get)
    if detail:
        body = [flavor_view(request, f, version) for f in items]
    else:
        body = [{"id": f["id"], "links": links(request, "flavors", f["id"]), "name": f["name"]} for f in items]
        if _since(version, "2.55"):
            for view, flavor in zip(body, items, strict=True):
                view["description"] = flavor["description"]
    return ok(
        {"flavors": body, **next_links(request, "flavors/detail" if detail else "flavors", "flavors", items, limit)}
    )


@handler
async def list_flavors(request: web.Request, version: Version) -> web.Response:
    return await _flavor_list(request, version, detail=False)


@handler
async def list_flavors_detail(request: web.Request, version: Version) -> web.Response:
    return await _flavor_list(request, version, detail=True)


def _flavor(request: web.Request) -> dict[str, Any]:
    flavor_id = request.match_info["flavor_id"]
    flavor = pod_of(request).state.flavors.get(flavor_id)
    if flavor is None:
        raise NovaError(404, f"Flavor {flavor_id} could not be found.")
    return flavor


@handler
async def show_flavor(request: web.Request, version: Version) -> web.Response:
    return ok({"flavor": flavor_view(request, _flavor(request), version)})


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise NovaError(400, "Malformed request body") from None


def _int(spec: dict[str, Any], key: str, default: int | None = None, minimum: int = 0) -> int:
    value = spec.get(key, default)
    if value is None:
        raise NovaError(400, f"Invalid input for field/attribute {key}. Value: None.")
    try:
        number = int(value)  # Nova accepts integers and integer strings
    except (TypeError, ValueError):
        raise NovaError(400, f"Invalid input for field/attribute {key}. Value: {value}.") from None
    if isinstance(value, bool) or number < minimum:
        raise NovaError(400, f"Invalid input for field/attribute {key}. Value: {value}.")
    return number


FLAVOR_FIELDS = {"name", "id", "ram", "vcpus", "disk", "swap", "OS-FLV-EXT-DATA:ephemeral", "rxtx_factor",
                 "os-flavor-access:is_public", "description"}  # fmt: skip


@handler
async def create_flavor(request: web.Request, version: Version) -> web.Response:
    _admin(claims_of(request), "os-flavor-manage:create")
    body = await _json(request)
    spec = body.get("flavor") if isinstance(body, dict) else None
    if not isinstance(spec, dict):
        raise NovaError(400, "Invalid input for field/attribute flavor. 'flavor' is a required property")
    unknown = sorted(set(spec) - FLAVOR_FIELDS)
    if unknown:
        raise NovaError(
            400, f"Invalid input for field/attribute flavor. Additional properties are not allowed ({unknown})"
        )
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise NovaError(400, f"Invalid input for field/attribute name. Value: {name}.")
    state = pod_of(request).state
    flavor_id = str(spec.get("id") or uuid.uuid4())
    if flavor_id in state.flavors:
        raise NovaError(409, f"Flavor with ID {flavor_id} already exists.")
    if any(f["name"] == name for f in state.flavors.values()):
        raise NovaError(409, f"Flavor with name {name} already exists.")
    is_public = spec.get("os-flavor-access:is_public", True)
    if not isinstance(is_public, bool):
        raise NovaError(400, f"Invalid input for field/attribute os-flavor-access:is_public. Value: {is_public}.")
    record = flavor_record(
        flavor_id,
        name,
        _int(spec, "ram", minimum=1),
        _int(spec, "vcpus", minimum=1),
        _int(spec, "disk"),
        now().isoformat(),
        ephemeral=_int(spec, "OS-FLV-EXT-DATA:ephemeral", 0),
        swap=_int(spec, "swap", 0),
        is_public=is_public,
        description=spec.get("description"),
        internal_id=1 + max((f.get("internal_id", 1) for f in state.flavors.values()), default=0),
    )
    state.flavors[flavor_id] = record
    return ok({"flavor": flavor_view(request, record, version)})


@handler
async def delete_flavor(request: web.Request, version: Version) -> web.Response:
    _admin(claims_of(request), "os-flavor-manage:delete")
    del pod_of(request).state.flavors[_flavor(request)["id"]]
    return empty(202)


@handler
async def list_extra_specs(request: web.Request, version: Version) -> web.Response:
    return ok({"extra_specs": dict(_flavor(request)["extra_specs"])})


def _specs(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str | int | float) for v in value.values()):
        raise NovaError(400, f"Invalid input for field/attribute extra_specs. Value: {value}.")
    return {str(k): str(v) for k, v in value.items()}


@handler
async def create_extra_specs(request: web.Request, version: Version) -> web.Response:
    _admin(claims_of(request), "os-flavor-extra-specs:create")
    flavor = _flavor(request)
    body = await _json(request)
    specs = _specs(body.get("extra_specs") if isinstance(body, dict) else None)
    flavor["extra_specs"].update(specs)
    return ok({"extra_specs": specs})


@handler
async def show_extra_spec(request: web.Request, version: Version) -> web.Response:
    flavor = _flavor(request)
    key = request.match_info["key"]
    if key not in flavor["extra_specs"]:
        raise NovaError(404, f"Flavor {flavor['id']} has no extra specs with key {key}.")
    return ok({key: flavor["extra_specs"][key]})


@handler
async def update_extra_spec(request: web.Request, version: Version) -> web.Response:
    _admin(claims_of(request), "os-flavor-extra-specs:update")
    flavor = _flavor(request)
    key = request.match_info["key"]
    specs = _specs(await _json(request))
    if list(specs) != [key]:
        raise NovaError(400, "Request body and URI mismatch")
    flavor["extra_specs"].update(specs)
    return ok(specs)


@handler
async def delete_extra_spec(request: web.Request, version: Version) -> web.Response:
    _admin(claims_of(request), "os-flavor-extra-specs:delete")
    flavor = _flavor(request)
    key = request.match_info["key"]
    if flavor["extra_specs"].pop(key, None) is None:
        raise NovaError(404, f"Flavor {flavor['id']} has no extra specs with key {key}.")
    return empty(200)


def _access(flavor: dict[str, Any]) -> dict[str, Any]:
    return {"flavor_access": [{"flavor_id": flavor["id"], "tenant_id": p} for p in flavor["projects"]]}


@handler
async def list_access(request: web.Request, version: Version) -> web.Response:
    _admin(claims_of(request), "os-flavor-access")
    flavor = _flavor(request)
    if flavor["is_public"]:
        raise NovaError(404, "Access list not available for public flavors.")
    return ok(_access(flavor))


@handler
async def flavor_action(request: web.Request, version: Version) -> web.Response:
    _admin(claims_of(request), "os-flavor-access:add_tenant_access")
    flavor = _flavor(request)
    body = await _json(request)
    action = next(iter(body), None) if isinstance(body, dict) and len(body) == 1 else None
    tenant = (body.get(action) or {}).get("tenant") if action in ("addTenantAccess", "removeTenantAccess") else None
    if not isinstance(tenant, str):
        raise NovaError(400, "There is no such action: " + str(action))
    if flavor["is_public"]:
        raise NovaError(409, "Can not add access to a public flavor.")
    if action == "addTenantAccess":
        if tenant not in {p.id for p in PROJECTS}:
            raise NovaError(400, f"Project ID {tenant} is not a valid project.")
        if tenant in flavor["projects"]:
            raise NovaError(
                409, f"Flavor access already exists for flavor {flavor['id']} and project {tenant} combination."
            )
        flavor["projects"].append(tenant)
    else:
        if tenant not in flavor["projects"]:
            internal = flavor.get("internal_id", 1)
            raise NovaError(404, f"Flavor access not found for {internal} / {tenant} combination.")
        flavor["projects"].remove(tenant)
    return ok(_access(flavor))


# -- keypairs -------------------------------------------------------------------------------------
def fingerprint(public_key: str) -> str:
    """Nova's: the MD5 of the key's decoded blob, as colon-separated hex."""
    try:
        blob = base64.b64decode(public_key.split()[1], validate=True)
    except (IndexError, ValueError):
        raise NovaError(400, "Keypair data is invalid: failed to generate fingerprint") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def _keypair_view(keypair: dict[str, Any], version: Version, *, fields: tuple[str, ...]) -> dict[str, Any]:
    view = {k: keypair[k] for k in fields}
    if _since(version, "2.2"):
        view["type"] = keypair["type"]
    return dict(sorted(view.items()))


@handler
async def create_keypair(request: web.Request, version: Version) -> web.Response:
    body = await _json(request)
    spec = body.get("keypair") if isinstance(body, dict) else None
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"].strip():
        raise NovaError(400, "Invalid input for field/attribute keypair. 'name' is a required property")
    public_key = spec.get("public_key")
    if not isinstance(public_key, str):
        raise NovaError(400, "Invalid input for field/attribute keypair. 'public_key' is a required property "
                        "(the stub does not generate keys)")  # fmt: skip
    claims = claims_of(request)
    state = pod_of(request).state
    key = (claims.user.id, spec["name"])
    if key in state.keypairs:
        raise NovaError(409, f"Key pair '{spec['name']}' already exists.")
    keypair = {
        "name": spec["name"],
        "public_key": public_key,
        "fingerprint": fingerprint(public_key),
        "user_id": claims.user.id,
        "type": spec.get("type", "ssh"),
        "created_at": now().strftime("%Y-%m-%dT%H:%M:%S.000000"),
        "id": len(state.keypairs) + 1,
        "deleted": False,
        "deleted_at": None,
        "updated_at": None,
    }
    state.keypairs[key] = keypair
    view = _keypair_view(keypair, version, fields=("fingerprint", "name", "public_key", "user_id"))
    return ok({"keypair": view}, 201 if _since(version, "2.2") else 200)


@handler
async def list_keypairs(request: web.Request, version: Version) -> web.Response:
    user = claims_of(request).user.id
    mine = sorted((k for (u, _), k in pod_of(request).state.keypairs.items() if u == user), key=lambda k: k["name"])
    views = [{"keypair": _keypair_view(k, version, fields=("fingerprint", "name", "public_key"))} for k in mine]
    return ok({"keypairs": views})


def _keypair(request: web.Request) -> dict[str, Any]:
    user = claims_of(request).user.id
    name = request.match_info["name"]
    keypair = pod_of(request).state.keypairs.get((user, name))
    if keypair is None:
        raise NovaError(404, f"Keypair {name} not found for user {user}")
    return keypair


@handler
async def show_keypair(request: web.Request, version: Version) -> web.Response:
    fields = ("created_at", "deleted", "deleted_at", "fingerprint", "id", "name", "public_key", "updated_at", "user_id")
    return ok({"keypair": _keypair_view(_keypair(request), version, fields=fields)})


@handler
async def delete_keypair(request: web.Request, version: Version) -> web.Response:
    keypair = _keypair(request)
    del pod_of(request).state.keypairs[(keypair["user_id"], keypair["name"])]
    return empty(204 if _since(version, "2.2") else 202)


# -- availability zones, limits -------------------------------------------------------------------
@handler
async def availability_zones(request: web.Request, version: Version) -> web.Response:
    zone = {"hosts": None, "zoneName": pod_of(request).state.az, "zoneState": {"available": True}}
    return ok({"availabilityZoneInfo": [zone]})


@handler
async def limits(request: web.Request, version: Version) -> web.Response:
    claims = claims_of(request)
    state = pod_of(request).state
    mine = [s for s in state.servers.values() if s["project_id"] == claims.project.id]
    flavors = [state.flavors.get(s["flavor_id"], {}) for s in mine]
    absolute = {
        "maxImageMeta": 128,
        "maxPersonality": 5,
        "maxPersonalitySize": 10240,
        "maxSecurityGroupRules": -1,
        "maxSecurityGroups": -1,
        "maxServerGroupMembers": 10,
        "maxServerGroups": 10,
        "maxServerMeta": 128,
        "maxTotalCores": 20,
        "maxTotalFloatingIps": -1,
        "maxTotalInstances": 10,
        "maxTotalKeypairs": 100,
        "maxTotalRAMSize": 51200,
        "totalCoresUsed": sum(f.get("vcpus", 0) for f in flavors),
        "totalFloatingIpsUsed": 0,
        "totalInstancesUsed": len(mine),
        "totalRAMUsed": sum(f.get("ram", 0) for f in flavors),
        "totalSecurityGroupsUsed": 0,
        "totalServerGroupsUsed": 0,
    }
    return ok({"limits": {"absolute": absolute, "rate": []}})


def routes(base: str) -> list[web.RouteDef]:
    flavor = base + "/flavors/{flavor_id}"
    return [
        web.get(base + "/flavors", list_flavors),
        web.post(base + "/flavors", create_flavor),
        web.get(base + "/flavors/detail", list_flavors_detail),
        web.get(flavor, show_flavor),
        web.delete(flavor, delete_flavor),
        web.get(flavor + "/os-extra_specs", list_extra_specs),
        web.post(flavor + "/os-extra_specs", create_extra_specs),
        web.get(flavor + "/os-extra_specs/{key}", show_extra_spec),
        web.put(flavor + "/os-extra_specs/{key}", update_extra_spec),
        web.delete(flavor + "/os-extra_specs/{key}", delete_extra_spec),
        web.get(flavor + "/os-flavor-access", list_access),
        web.post(flavor + "/action", flavor_action),
        web.get(base + "/os-keypairs", list_keypairs),
        web.post(base + "/os-keypairs", create_keypair),
        web.get(base + "/os-keypairs/{name}", show_keypair),
        web.delete(base + "/os-keypairs/{name}", delete_keypair),
        web.get(base + "/os-availability-zone", availability_zones),
        web.get(base + "/limits", limits),
    ]
