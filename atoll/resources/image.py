"""Glance's images, as Atoll routes them: one image is the same id in every pod holding a copy."""

from __future__ import annotations

from atoll.resources.spec import Placement, Resource
from atoll.types import ResourceType

IMAGE = Resource(
    name="image",
    missing="No image found with ID {id}",
    service="image",
    path="/images",
    collection_key="images",
    member_key="image",  # Glance shows an image unwrapped; the gateway's image part knows
    placement=Placement.GLOBAL,
    routing_type=ResourceType.IMAGE,
    merged=True,
)
"""Each pod holding a copy has a routing (top id = bottom id = the image id, project = its owner)."""
