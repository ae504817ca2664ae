"""Each declaration checked for itself (openstacksdk's `test_basic` in spirit)."""

from __future__ import annotations

import pytest

from atoll import resources
from atoll.gateway.services import SERVICES
from atoll.resources import Placement, Resource
from atoll.resources.compute import KEYPAIR, SERVER
from atoll.types import ResourceType

SERVICE_NAMES = {s.name for s in SERVICES}


@pytest.mark.parametrize("resource", resources.ALL, ids=lambda r: r.name)
def test_declaration(resource: Resource) -> None:
    assert resource.service in SERVICE_NAMES
    assert resource.path.startswith("/")
    assert not resource.path.endswith("/")
    assert resource.collection_key
    assert resource.member_key
    if resource.placement in (Placement.SCHEDULED, Placement.GLOBAL):
        assert isinstance(resource.routing_type, ResourceType)
    if resource.detail_path is not None:
        assert resource.detail_path.startswith(resource.path + "/")
    if resource.merged:
        assert resource.links_key == f"{resource.collection_key}_links"
    assert resource.member_path == f"{resource.path}/{{{resource.name}_id}}"
    assert "action" not in resource.filters
    message = resource.not_found("ID", user="U")
    assert "ID" in message


def test_names_are_unique_and_found() -> None:
    names = [r.name for r in resources.ALL]
    assert len(names) == len(set(names))
    assert resources.by_name("server") is SERVER
    with pytest.raises(KeyError):
        resources.by_name("nope")


def test_specific_shapes() -> None:
    assert SERVER.not_found("x") == "Instance x could not be found."
    assert KEYPAIR.id_key == "name"
    assert KEYPAIR.wrapped_items
    assert "os-volume_attachments" in SERVER.sub_resources
    assert SERVER.paginated
