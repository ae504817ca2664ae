from __future__ import annotations

from pydantic import Field

from atoll.api.schemas.common import Link, Name, Reply, Strict, Timestamp, Uuid36


class BindingCreate(Strict):
    tenant_id: Name = Field(description="The project to bind.")
    pod_id: Uuid36 = Field(description="The bottom pod the project's resources go to.")
    is_binding: bool = Field(True, description="Whether the binding is active.")


class BindingUpdate(Strict):
    is_binding: bool


class BindingCreateRequest(Strict):
    pod_binding: BindingCreate


class BindingUpdateRequest(Strict):
    pod_binding: BindingUpdate


class Binding(Reply):
    id: str
    tenant_id: str
    pod_id: str
    is_binding: bool
    created_at: Timestamp
    updated_at: Timestamp | None


class BindingReply(Reply):
    pod_binding: Binding


class BindingsReply(Reply):
    pod_bindings: list[Binding]
    pod_bindings_links: list[Link] = Field(default_factory=list, description="A `next` link while more follow.")
