"""Telling a pod's refusal of its marker from its other errors, with the services' real bodies."""

from __future__ import annotations

import pytest

from atoll.listing.refusals import is_marker_refusal
from atoll.types import ServiceType

M = "00000000-0000-0000-0000-000000000000"
NOVA, CINDER, GLANCE, NEUTRON = ServiceType.COMPUTE, ServiceType.BLOCK_STORAGE, ServiceType.IMAGE, ServiceType.NETWORK
CASES = [
    (NOVA, 400, '{"badRequest": {"code": 400, "message": "marker [<id>] not found"}}', True),
    (NOVA, 400, '{"badRequest": {"code": 400, "message": "Invalid input received: ..."}}', False),
    (NOVA, 404, '{"itemNotFound": {"code": 404, "message": "marker [<id>] not found"}}', False),
    (CINDER, 404, '{"itemNotFound": {"code": 404, "message": "Volume <id> could not be found."}}', True),
    (ServiceType.VOLUME, 404, "", True),
    (CINDER, 400, '{"badRequest": {"message": "Invalid sort key"}}', False),
    (GLANCE, 400, "<html><body><h1>400 Bad Request</h1> No image found with ID <id><br /></body></html>", True),
    (GLANCE, 400, "Invalid sort direction: up", False),
    (
        NEUTRON,
        404,
        '{"NeutronError": {"type": "NetworkNotFound", "message": "Network <id> could not be found."}}',
        True,
    ),
    (NEUTRON, 400, '{"NeutronError": {"type": "HTTPBadRequest"}}', False),
    (ServiceType.PLACEMENT, 404, "", False),
]


@pytest.mark.parametrize(("service", "status", "body", "refusal"), CASES)
def test_a_refused_marker_is_recognized(service: ServiceType, status: int, body: str, refusal: bool) -> None:
    assert is_marker_refusal(service, status, body.replace("<id>", M), M) is refusal
