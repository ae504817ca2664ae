from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from atoll.api.schemas.common import Link, Name, OptionalName, Reply, Strict, Timestamp
from atoll.types import PodStatus


class PodCreate(Strict):
    region_name: Name | None = Field(None, description="The pod's Keystone region name.")
    pod_name: Name | None = Field(None, description="Older name of region_name (Tricircle 2016).")
    az_name: OptionalName = Field("", description="Availability zone the pod belongs to; empty for the top pod.")
    pod_az_name: OptionalName = Field("", description="The availability zone name used inside the pod.")
    dc_name: OptionalName = Field("", description="Data center of the pod.")

    @model_validator(mode="after")
    def _one_name(self) -> PodCreate:
        if self.region_name is None and self.pod_name is None:
            raise ValueError("region_name is required")
        if self.region_name is not None and self.pod_name is not None and self.region_name != self.pod_name:
            raise ValueError("region_name and pod_name differ; give one of them")
        return self

    @property
    def name(self) -> str:
        return self.region_name or self.pod_name or ""


class PodUpdate(Strict):
    region_name: Name | None = None
    az_name: OptionalName | None = None
    pod_az_name: OptionalName | None = None
    dc_name: OptionalName | None = None

    @model_validator(mode="after")
    def _something(self) -> PodUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of region_name, az_name, pod_az_name, dc_name")
        if any(getattr(self, f) is None for f in self.model_fields_set):
            raise ValueError("fields may not be null")
        return self


class PodCreateRequest(Strict):
    pod: PodCreate


class PodUpdateRequest(Strict):
    pod: PodUpdate


class Pod(Reply):
    pod_id: str
    region_name: str
    az_name: str
    pod_az_name: str
    dc_name: str
    is_top: bool = Field(description="The top pod is Atoll's own region; exactly one exists.")
    endpoints: dict[str, str] = Field(description="Catalog URLs by service type, discovered from Keystone.")
    status: PodStatus
    status_reason: str
    last_seen_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp | None

    @field_validator("is_top", mode="before")
    @classmethod
    def _top(cls, value: Any) -> bool:
        return bool(value)


class PodReply(Reply):
    pod: Pod


class PodsReply(Reply):
    pods: list[Pod]
    pods_links: list[Link] = Field(default_factory=list, description="A `next` link while more pods follow.")
