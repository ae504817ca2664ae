"""The resources a stub pod starts with: what every test-bed pod has (flavor m1.tiny, the public
image, a default volume type, a compute node in Placement, each project's default security
group) and the requested pre-seeded servers, volumes, images and networks of each project."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING

from stubpods.identity import PROJECTS, Project
from stubpods.store import PodState, iso, pattern_data

if TYPE_CHECKING:
    from stubpods.store import Seeder

FLAVOR = {"id": "1", "name": "m1.tiny", "ram": 512, "vcpus": 1, "disk": 1}
PUBLIC_IMAGE = "testbed-image"
IMAGE_SIZE = 6144
SEEDED_IMAGE_SIZE = 4096
DEFAULT_VOLUME_TYPE = "__DEFAULT__"


def flavor_record(
    flavor_id: str, name: str, ram: int, vcpus: int, disk: int, created_at: str, **extra: object
) -> dict[str, object]:
    return {
        "id": flavor_id,
        "flavorid": flavor_id,
        "name": name,
        "ram": ram,
        "vcpus": vcpus,
        "disk": disk,
        "ephemeral": 0,
        "swap": 0,
        "rxtx_factor": 1.0,
        "is_public": True,
        "disabled": False,
        "description": None,
        "extra_specs": {},
        "projects": [],
        "created_at": created_at,
        **extra,
    }


def standard(seeder: Seeder, state: PodState) -> None:
    created = iso(seeder.created(state, 0, 0).replace(year=2025))
    state.flavors["1"] = flavor_record("1", "m1.tiny", 512, 1, 1, created, internal_id=1)
    image_id = seeder.uid("public-image")  # the same id in every pod, as in the test bed
    data = pattern_data(image_id, IMAGE_SIZE)
    state.images[image_id] = image_record(image_id, PUBLIC_IMAGE, PROJECTS[0].id, "public", created, data.size)
    state.images[image_id].update(checksum=data.md5, os_hash_value=data.sha512, status="active")
    state.image_data[image_id] = data
    type_id = seeder.uid(state.name, "volume-type")
    state.volume_types[type_id] = {
        "id": type_id,
        "name": DEFAULT_VOLUME_TYPE,
        "description": "Default Volume Type",
        "is_public": True,
        "extra_specs": {},
        "qos_specs_id": None,
        "os-volume-type-access:is_public": True,
    }
    provider = seeder.uid(state.name, "compute-node")
    state.providers[provider] = {
        "uuid": provider,
        "name": state.host,
        "generation": 2,
        "parent_provider_uuid": None,
        "root_provider_uuid": provider,
        "inventories": {
            "VCPU": inventory(1000, allocation_ratio=4.0),
            "MEMORY_MB": inventory(800000, reserved=512, allocation_ratio=1.0),
            "DISK_GB": inventory(600000, allocation_ratio=1.0),
        },
        "usages": {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0},
    }
    for project in PROJECTS:
        security_group(seeder, state, project)


def inventory(total: int, *, reserved: int = 0, allocation_ratio: float = 1.0) -> dict[str, object]:
    return {
        "total": total,
        "reserved": reserved,
        "min_unit": 1,
        "max_unit": total,
        "step_size": 1,
        "allocation_ratio": allocation_ratio,
    }


def security_group(seeder: Seeder, state: PodState, project: Project) -> None:
    sg_id = seeder.uid(state.name, project.name, "default-sg")
    created = iso(seeder.created(state, 0, 0).replace(year=2025))
    rules: list[dict[str, object]] = []
    for direction, ethertype in (("egress", "IPv4"), ("egress", "IPv6"), ("ingress", "IPv4"), ("ingress", "IPv6")):
        rules.append(
            {
                "id": seeder.uid(sg_id, direction, ethertype),
                "tenant_id": project.id,
                "security_group_id": sg_id,
                "ethertype": ethertype,
                "direction": direction,
                "protocol": None,
                "port_range_min": None,
                "port_range_max": None,
                "remote_ip_prefix": None,
                "remote_address_group_id": None,
                "normalized_cidr": None,
                "remote_group_id": sg_id if direction == "ingress" else None,
                "standard_attr_id": 1,
                "belongs_to_default_sg": None,
                "description": None,
                "tags": [],
                "created_at": created,
                "updated_at": created,
                "revision_number": 0,
                "project_id": project.id,
            }
        )
    state.security_groups[sg_id] = {
        "id": sg_id,
        "name": "default",
        "tenant_id": project.id,
        "description": "Default security group",
        "shared": False,
        "stateful": True,
        "security_group_rules": rules,
        "tags": [],
        "created_at": created,
        "updated_at": created,
        "revision_number": 1,
        "project_id": project.id,
    }


def image_record(
    image_id: str, name: str | None, owner: str, visibility: str, created: str, size: int | None
) -> dict[str, object]:
    return {
        "id": image_id,
        "name": name,
        "status": "queued",
        "visibility": visibility,
        "owner": owner,
        "created_at": created,
        "updated_at": created,
        "disk_format": "raw",
        "container_format": "bare",
        "size": size,
        "virtual_size": None,
        "checksum": None,
        "os_hash_algo": None,
        "os_hash_value": None,
        "min_disk": 0,
        "min_ram": 0,
        "protected": False,
        "os_hidden": False,
        "tags": [],
        "properties": {},
    }


def network(seeder: Seeder, state: PodState, project: Project, p: int, i: int) -> None:
    net_id = seeder.uid(state.name, project.name, "network", i)
    created = iso(seeder.created(state, p, i))
    state.networks[net_id] = network_record(net_id, f"net-{i:04d}-{state.name.lower()}", project.id, created, 1000 + i)


def network_record(net_id: str, name: str, project_id: str, created: str, segmentation_id: int) -> dict[str, object]:
    return {
        "id": net_id,
        "name": name,
        "tenant_id": project_id,
        "admin_state_up": True,
        "mtu": 1450,
        "status": "ACTIVE",
        "subnets": [],
        "shared": False,
        "availability_zone_hints": [],
        "availability_zones": [],
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        "router:external": False,
        "description": "",
        "port_security_enabled": True,
        "tags": [],
        "created_at": created,
        "updated_at": created,
        "revision_number": 1,
        "project_id": project_id,
        "provider:network_type": "vxlan",
        "provider:physical_network": None,
        "provider:segmentation_id": segmentation_id,
        "l2_adjacency": True,
        "is_default": False,
        "qinq": False,
        "vlan_transparent": False,
    }


def server(seeder: Seeder, state: PodState, project: Project, user_id: str, p: int, i: int) -> None:
    server_id = seeder.uid(state.name, project.name, "server", i)
    created = seeder.created(state, p, i)
    state.servers[server_id] = server_record(
        server_id,
        f"vm-{i:04d}-{state.name.lower()}",
        project.id,
        user_id,
        iso(created),
        state,
        seeder.uid("public-image"),
    )


def server_record(
    server_id: str, name: str, project_id: str, user_id: str, created: str, state: PodState, image_id: str
) -> dict[str, object]:
    return {
        "id": server_id,
        "display_name": name,
        "project_id": project_id,
        "user_id": user_id,
        "created_at": created,
        "updated_at": created,
        "launched_at": created.rstrip("Z") + ".000000",
        "status": "ACTIVE",
        "vm_state": "active",
        "task_state": None,
        "power_state": 1,
        "flavor_id": "1",
        "image_id": image_id,
        "key_name": None,
        "metadata": {},
        "availability_zone": state.az,
        "host": state.host,
        "hostname": name.lower(),
        "description": name,
        "tags": [],
        "addresses": {},
        "security_groups": ["default"],
        "config_drive": "",
        "locked": False,
        "locked_reason": None,
        "launch_index": 0,
        "reservation_id": "r-" + hashlib.sha1(server_id.encode(), usedforsecurity=False).hexdigest()[:8],
        "scheduler_hints": {},
        "pinned_availability_zone": None,
    }


def volume(seeder: Seeder, state: PodState, project: Project, user_id: str, p: int, i: int) -> None:
    volume_id = seeder.uid(state.name, project.name, "volume", i)
    created = seeder.created(state, p, i)
    state.volumes[volume_id] = volume_record(
        volume_id, f"vol-{i:04d}-{state.name.lower()}", 1 + i % 5, project.id, user_id, iso(created), state
    )


def volume_record(
    volume_id: str, name: str | None, size: int, project_id: str, user_id: str, created: str, state: PodState
) -> dict[str, object]:
    stamp = created.rstrip("Z") + ".000000"
    return {
        "id": volume_id,
        "display_name": name,
        "display_description": None,
        "size": size,
        "status": "available",
        "project_id": project_id,
        "user_id": user_id,
        "created_at": stamp,
        "updated_at": stamp,
        "availability_zone": state.az,
        "volume_type": DEFAULT_VOLUME_TYPE,
        "bootable": "false",
        "encrypted": False,
        "multiattach": False,
        "metadata": {},
        "host": f"{state.name.lower()}@fake#fake",
        "attachments": [],
        "snapshot_id": None,
        "source_volid": None,
        "consistencygroup_id": None,
        "group_id": None,
        "replication_status": None,
        "migration_status": None,
        "service_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"stubpods/{state.name}/cinder-volume")),
        "shared_targets": False,
        "cluster_name": None,
        "provider_id": None,
        "consumes_quota": True,
    }


def image(seeder: Seeder, state: PodState, project: Project, p: int, i: int) -> None:
    image_id = seeder.uid(state.name, project.name, "image", i)
    created = iso(seeder.created(state, p, i))
    data = pattern_data(image_id, SEEDED_IMAGE_SIZE)
    record = image_record(image_id, f"img-{i:04d}-{state.name.lower()}", project.id, "private", created, data.size)
    record.update(status="active", checksum=data.md5, os_hash_algo="sha512", os_hash_value=data.sha512)
    state.images[image_id] = record
    state.image_data[image_id] = data
