"""The shared vocabulary of Atoll: identifiers and small value types.

Every layer imports from here and from nothing above it, so a `PodId` means
the same thing in the database, the engine and the API.
"""

from __future__ import annotations

import enum
from typing import NewType

PodId = NewType("PodId", str)
"""Atoll's id of a pod (a UUID string)."""

RegionName = NewType("RegionName", str)
"""A Keystone region name; a pod's name equals its region's name."""

ProjectId = NewType("ProjectId", str)
"""A Keystone project (tenant) id."""

UserId = NewType("UserId", str)

BindingId = NewType("BindingId", str)

RoutingId = NewType("RoutingId", int)

RequestId = NewType("RequestId", str)
"""An `x-openstack-request-id` value: ``req-<uuid4>``."""

JobId = NewType("JobId", str)
"""A background job's id (a UUID string)."""


class PodStatus(enum.StrEnum):
    """What the health probe last saw of a pod."""

    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"


class JobStatus(enum.StrEnum):
    """A job's state (Tricircle's names). NEW waits to run (again), RUNNING is leased
    by a worker, SUCCESS and FAIL are final until an operator redoes the job."""

    NEW = "NEW"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"


class ServiceType(enum.StrEnum):
    """Keystone catalog service types Atoll discovers in each pod."""

    COMPUTE = "compute"
    VOLUME = "volumev3"
    BLOCK_STORAGE = "block-storage"
    NETWORK = "network"
    IMAGE = "image"
    PLACEMENT = "placement"


class ResourceType(enum.StrEnum):
    """Kinds of resource a routing row may map between top and bottom ids."""

    SERVER = "server"
    SERVER_GROUP = "server_group"
    VOLUME = "volume"
    SNAPSHOT = "snapshot"
    BACKUP = "backup"
    GROUP = "group"
    GROUP_SNAPSHOT = "group_snapshot"
    FLAVOR = "flavor"
    KEYPAIR = "keypair"
    IMAGE = "image"
    VOLUME_TYPE = "volume_type"
    GROUP_TYPE = "group_type"
    QOS_SPECS = "qos_specs"
    AGGREGATE = "aggregate"
    NETWORK = "network"
    SUBNET = "subnet"
    PORT = "port"
    ROUTER = "router"
    SECURITY_GROUP = "security_group"
    FLOATINGIP = "floatingip"
    TRUNK = "trunk"
    QOS_POLICY = "qos_policy"
    SHADOW_PORT = "shadow_port"
