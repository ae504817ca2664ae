"""Wire format of /v1.0/{project_id}/os-sync (Kingbird's, plus a `reason` per part)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from atoll.api.schemas.common import Name, Reply, Strict, Timestamp

ResourceType = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Regions = Annotated[list[Name], Field(max_length=100)] | Name
Force = bool | Annotated[str, StringConstraints(max_length=8)] | None


class SyncEntry(Strict):
    resource_type: ResourceType = Field(description="keypair, flavor, security_group or image.")
    resources: list[Name] = Field(
        max_length=100,
        description="Keypair names, flavor ids or names, security group names or ids, image ids.",
    )
    source: Regions = Field(description="The region (pod) to copy from.")
    target: Regions = Field(description="The regions (pods) to copy to.")
    force: Force = Field(default=None, description="Overwrite a differing copy (true/false, or Kingbird's 'True').")
    user_id: Name | None = Field(default=None, description="Keypairs of this user (admin only); default the caller.")


class ResourceSet(Strict):
    """Either one set (`resource_type`, `resources`, `source`, `target`, `force`) or a template (`Sync`)."""

    resource_type: ResourceType | None = None
    resources: list[Name] | None = Field(default=None, max_length=100)
    source: Regions | None = None
    target: Regions | None = None
    force: Force = None
    user_id: Name | None = None
    Sync: list[SyncEntry] | None = Field(default=None, max_length=20, description="Several sets in one request.")


class SyncRequest(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "resource_set": {
                        "resource_type": "flavor",
                        "resources": ["m1.tiny"],
                        "source": "Pod1",
                        "target": ["Pod2"],
                        "force": "False",
                    }
                }
            ]
        },
    )

    resource_set: ResourceSet


class JobStatusView(Reply):
    id: str
    status: str = Field(description="IN_PROGRESS, SUCCESS or FAILURE.")
    created_at: Timestamp


class JobStatusReply(Reply):
    job_status: JobStatusView


class SyncJob(Reply):
    id: str
    sync_status: str = Field(
        description="IN_PROGRESS, SUCCESS (every part) or FAILURE (every part finished, one failed)."
    )
    created_at: Timestamp
    updated_at: Timestamp | None


class SyncPart(Reply):
    id: str
    source_region: str
    target_region: str
    resource: str
    resource_type: str
    sync_status: str
    reason: str = Field(description="Why this part failed, or why its last attempt did; empty otherwise.")
    created_at: Timestamp
    updated_at: Timestamp | None


class SyncJobsReply(Reply):
    job_set: list[SyncJob]


class SyncPartsReply(Reply):
    job_set: list[SyncPart]
