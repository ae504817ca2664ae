"""Wire format of /v1.0/resources: one project's resources in every pod."""

from __future__ import annotations

from pydantic import Field

from atoll.api.schemas.common import Link, Reply


class ResourceItem(Reply):
    id: str = Field(description="The resource's id in its pod (a keypair's name).")
    type: str = Field(description="server, volume, snapshot, network, port, keypair, image or security_group.")
    name: str | None
    status: str | None = Field(description="As the pod shows it; null for kinds without one (keypair, security_group).")
    pod: str = Field(description="The pod (region) it is in; the top region's name for the central Neutron.")
    az: str | None = Field(description="Atoll's availability zone of the pod; null for the central Neutron.")
    project_id: str
    created_at: str | None = Field(description="UTC, ISO 8601; null where the list does not show it (keypairs).")


class ResourcesReply(Reply):
    resources: list[ResourceItem]
    resources_links: list[Link]
    partial_pods: list[str] = Field(
        description="Pods that did not answer (down, or not in time): their resources are missing from this "
        "page and come on a later one. Also in the Atoll-Partial-Pods header."
    )
