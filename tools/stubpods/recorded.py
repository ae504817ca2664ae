"""The recorded answers of the real services (recorded/*.json, written by `capture`) and how to
seed a stub pod with a recorded population, so the same queries can be replayed against both."""

from __future__ import annotations

import functools
import json
import pathlib
from typing import Any

from stubpods import seeds
from stubpods.identity import DEMO, USERS
from stubpods.store import PodState

HERE = pathlib.Path(__file__).resolve().parent / "recorded"
PLACEHOLDERS = {
    "nova": "compute",
    "cinder": "volume",
    "glance": "image",
    "neutron": "networking",
    "placement": "placement",
}
"""`{nova}` in a recorded URL stands for the service's root; in a stub pod that is http://host:port/compute."""


@functools.cache
def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / f"{name}.json").read_text())
    return data


def recorded_demo() -> tuple[str, str]:
    """The project and user ids the test bed's `demo` had when the answers were recorded."""
    token = load("keystone")["validate"]["body"]["token"]
    return token["project"]["id"], token["user"]["id"]


def to_stub_ids() -> dict[str, str]:
    project, user = recorded_demo()
    return {project: DEMO.id, user: USERS["demo"].id}


def rewrite(value: Any, mapping: dict[str, str]) -> Any:
    """`value` with every occurrence of each key of `mapping` replaced, in strings at any depth."""
    if isinstance(value, str):
        for old, new in mapping.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {rewrite(k, mapping): rewrite(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [rewrite(v, mapping) for v in value]
    return value


def seed(state: PodState, service: str, population: list[dict[str, Any]]) -> None:
    """Put recorded resources (API views, as listed by the real service) into a stub pod."""
    mapping = to_stub_ids()
    for view in rewrite(population, mapping):
        {"nova": _server, "cinder": _volume, "glance": _image, "neutron": _network}[service](state, view)
    state.changed()


def _server(state: PodState, view: dict[str, Any]) -> None:
    record = seeds.server_record(
        view["id"], view["name"], view["tenant_id"], view["user_id"], view["created"], state, view["image"]["id"]
    )
    record.update(
        updated_at=view["updated"],
        launched_at=view["OS-SRV-USG:launched_at"],
        flavor_id=view["flavor"]["id"],
        addresses=view["addresses"],
        metadata=view["metadata"],
        key_name=view["key_name"],
        availability_zone=view["OS-EXT-AZ:availability_zone"],
    )
    state.servers[view["id"]] = record


def _volume(state: PodState, view: dict[str, Any]) -> None:
    record = seeds.volume_record(
        view["id"],
        view["name"],
        view["size"],
        view["os-vol-tenant-attr:tenant_id"],
        view["user_id"],
        view["created_at"],
        state,
    )
    record.update(
        updated_at=view["updated_at"],
        display_description=view["description"],
        availability_zone=view["availability_zone"],
        volume_type=view["volume_type"],
    )
    state.volumes[view["id"]] = record


def _image(state: PodState, view: dict[str, Any]) -> None:
    hidden = {"file", "self", "schema", "stores"}
    record = seeds.image_record(
        view["id"], view["name"], view["owner"], view["visibility"], view["created_at"], view["size"]
    )
    record.update({k: v for k, v in view.items() if k not in hidden and k in record})
    record["properties"] = {k: v for k, v in view.items() if k not in hidden and k not in record}
    state.images[view["id"]] = record


def _network(state: PodState, view: dict[str, Any]) -> None:
    record = seeds.network_record(view["id"], view["name"], view["project_id"], view["created_at"], 1000)
    record.update(view)
    state.networks[view["id"]] = record
