"""Did a pod refuse a list call because of its marker? Each service says it its own way.

A pod-native marker is the id of the last item Atoll took from that pod; when
that item is deleted before the next page, the pod refuses the marker:

- Nova: 400 ``marker [<id>] not found`` (``nova/api/openstack/compute/servers.py``);
- Cinder: 404 ``Volume <id> could not be found.`` (the marker is looked up like a ``GET``);
- Glance: 400 ``No image found with ID <id>`` (``glance/db/sqlalchemy/api.py``);
- Neutron: 404 ``<Resource> <id> could not be found.``

A list call has no other reason to answer 404, so for Cinder and Neutron the
status is enough; Nova's and Glance's 400s are told apart by their message.
"""

from __future__ import annotations

from atoll.types import ServiceType


def is_marker_refusal(service: ServiceType, status: int, body: str, marker: str) -> bool:
    """Whether `status` and `body` answering a list call made with `marker` mean the pod no longer has it."""
    if service in (ServiceType.BLOCK_STORAGE, ServiceType.VOLUME, ServiceType.NETWORK):
        return status == 404
    if service is ServiceType.COMPUTE:
        return status == 400 and f"marker [{marker}] not found" in body
    if service is ServiceType.IMAGE:
        return status == 400 and f"No image found with ID {marker}" in body
    return False
