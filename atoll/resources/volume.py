"""Cinder's resources, as Atoll routes them.

Volumes, snapshots and backups are scheduled (a volume by AZ, snapshots and backups
with their volume) and found again through the routing table, as are groups (by AZ) and
group snapshots (with their group); volume types are global (made in every pod).
Transfers and attachments have no routing: their ids are found by asking the pods.
"""

from __future__ import annotations

from atoll.resources.spec import Placement, Resource
from atoll.types import ResourceType

VOLUME = Resource(
    name="volume",
    missing="Volume {id} could not be found.",
    service="volume",
    path="/volumes",
    collection_key="volumes",
    member_key="volume",
    placement=Placement.SCHEDULED,
    routing_type=ResourceType.VOLUME,
    links_key="volumes_links",
    detail_path="/volumes/detail",
    merged=True,
    sub_resources=("action", "metadata", "encryption"),
)

SNAPSHOT = Resource(
    name="snapshot",
    missing="Snapshot {id} could not be found.",
    service="volume",
    path="/snapshots",
    collection_key="snapshots",
    member_key="snapshot",
    placement=Placement.SCHEDULED,
    routing_type=ResourceType.SNAPSHOT,
    links_key="snapshots_links",
    detail_path="/snapshots/detail",
    merged=True,
    sub_resources=("action", "metadata"),
)

BACKUP = Resource(
    name="backup",
    missing="Backup {id} could not be found.",
    service="volume",
    path="/backups",
    collection_key="backups",
    member_key="backup",
    placement=Placement.SCHEDULED,
    routing_type=ResourceType.BACKUP,
    links_key="backups_links",
    detail_path="/backups/detail",
    merged=True,
    sub_resources=("action", "restore", "export_record"),
)

VOLUME_TYPE = Resource(
    name="volume_type",
    missing="Volume type {id} could not be found.",
    service="volume",
    path="/types",
    collection_key="volume_types",
    member_key="volume_type",
    placement=Placement.GLOBAL,
    routing_type=ResourceType.VOLUME_TYPE,
    filters=frozenset({"is_public", "extra_specs"}),
    sub_resources=("extra_specs", "action", "os-volume-type-access", "encryption"),
)

GROUP = Resource(
    name="group",
    missing="Group {id} could not be found.",
    service="volume",
    path="/groups",
    collection_key="groups",
    member_key="group",
    placement=Placement.SCHEDULED,
    routing_type=ResourceType.GROUP,
    sub_resources=("action",),
    min_microversion="3.13",
)

GROUP_SNAPSHOT = Resource(
    name="group_snapshot",
    missing="GroupSnapshot {id} could not be found.",
    service="volume",
    path="/group_snapshots",
    collection_key="group_snapshots",
    member_key="group_snapshot",
    placement=Placement.SCHEDULED,
    routing_type=ResourceType.GROUP_SNAPSHOT,
    sub_resources=("action",),
    min_microversion="3.14",
)

VOLUME_RESOURCES: tuple[Resource, ...] = (VOLUME, SNAPSHOT, BACKUP, VOLUME_TYPE, GROUP, GROUP_SNAPSHOT)
