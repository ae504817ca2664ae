"""Wire format of /v1.0/sync-policies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool, model_validator

from atoll.api.schemas.common import Link, Name, OptionalName, Reply, Strict, Timestamp

ResourceType = Literal["keypair", "flavor", "security_group", "image"]
Resources = Annotated[list[Name], Field(min_length=1, max_length=100)]


class Target(Strict):
    """Exactly one of: `pods` (region names), `az` (an availability zone of Atoll), `all` (true)."""

    pods: list[Name] | None = Field(default=None, min_length=1, max_length=100)
    az: Name | None = None
    all: StrictBool | None = Field(default=None, description="true: every pod but the source.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Target:
        given = sorted(f for f in ("pods", "az", "all") if getattr(self, f) is not None)
        if len(given) != 1:
            raise ValueError("give exactly one of pods, az or all")
        if self.all is False:
            raise ValueError("all may only be true")
        return self

    def as_json(self) -> dict[str, Any]:
        if self.pods is not None:
            return {"pods": list(dict.fromkeys(self.pods))}
        if self.az is not None:
            return {"az": self.az}
        return {"all": True}


class SyncPolicyCreate(Strict):
    name: OptionalName = ""
    resource_type: ResourceType
    resources: Resources = Field(description="Keypair names, flavor ids or names, security group names, image ids.")
    source: Name = Field(description="The pod (region name) whose resources are the reference.")
    target: Target
    project_id: Name | None = Field(default=None, description="Whose resources; default the caller's project.")
    user_id: Name | None = Field(default=None, description="Keypairs of this user; default the caller.")


class SyncPolicyUpdate(Strict):
    name: OptionalName | None = None
    resources: Resources | None = None
    source: Name | None = None
    target: Target | None = None

    @model_validator(mode="after")
    def _something(self) -> SyncPolicyUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        nulls = sorted(f for f in self.model_fields_set if getattr(self, f) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} may not be null")
        return self


class SyncPolicyCreateRequest(Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sync_policy": {
                        "name": "tiny everywhere",
                        "resource_type": "flavor",
                        "resources": ["m1.tiny"],
                        "source": "Pod1",
                        "target": {"all": True},
                    }
                }
            ]
        },
    )

    sync_policy: SyncPolicyCreate


class SyncPolicyUpdateRequest(Strict):
    sync_policy: SyncPolicyUpdate


class ResourceState(Reply):
    resource: str
    state: str = Field(description="in_sync, drifted, missing or error.")
    differences: list[str] = Field(description="What differs, as `field: target value != source value`.")
    reason: str


class PodState(Reply):
    pod: str
    state: str = Field(description="in_sync, drifted, missing, syncing, unreachable, error or pending.")
    resources: list[ResourceState]
    reason: str
    unreachable_since: Timestamp | None
    checked_at: Timestamp | None
    job_id: str | None = Field(description="The last repair job of this pod (see /v1.0/jobs).")


class SyncPolicy(Reply):
    id: str
    name: str
    project_id: str
    user_id: str
    resource_type: str
    resources: list[str]
    source: str
    target: dict[str, Any]
    state: str = Field(description="The worst state of its pods (in_sync when every pod is).")
    source_error: str = Field(description="Why the last check could not read the source; empty otherwise.")
    checked_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp | None


class SyncPolicyDetail(SyncPolicy):
    pods: list[PodState]


class SyncPolicyReply(Reply):
    sync_policy: SyncPolicyDetail


class SyncPoliciesReply(Reply):
    sync_policies: list[SyncPolicy]
    sync_policies_links: list[Link] = Field(default_factory=list)


class RemovalReply(Reply):
    job_id: str | None = Field(description="The job deleting the copies (see /v1.0/jobs); null when none.")
