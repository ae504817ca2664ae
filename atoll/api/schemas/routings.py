from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from atoll.api.schemas.common import Link, Name, Reply, Strict, Timestamp, Uuid36
from atoll.types import ResourceType

ResourceId = Annotated[str, StringConstraints(min_length=1, max_length=127, pattern=r"^[^\x00-\x1f\x7f]+$")]


class RoutingCreate(Strict):
    top_id: ResourceId
    bottom_id: ResourceId | None = Field(None, description="Null while the bottom resource is being created.")
    pod_id: Uuid36
    project_id: Name
    resource_type: ResourceType


class RoutingUpdate(Strict):
    top_id: ResourceId | None = None
    bottom_id: ResourceId | None = None
    pod_id: Uuid36 | None = None
    project_id: Name | None = None
    resource_type: ResourceType | None = None

    @model_validator(mode="after")
    def _something(self) -> RoutingUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        nulls = [f for f in self.model_fields_set if f != "bottom_id" and getattr(self, f) is None]
        if nulls:
            raise ValueError(f"{', '.join(sorted(nulls))} may not be null")
        return self


class RoutingCreateRequest(Strict):
    routing: RoutingCreate


class RoutingUpdateRequest(Strict):
    routing: RoutingUpdate


class Routing(Reply):
    id: int
    top_id: str
    bottom_id: str | None
    pod_id: str
    project_id: str
    resource_type: str
    created_at: Timestamp
    updated_at: Timestamp | None


class RoutingReply(Reply):
    routing: Routing


class RoutingsReply(Reply):
    routings: list[Routing]
    routings_links: list[Link] = Field(default_factory=list)
