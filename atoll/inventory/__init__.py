"""A global view of one project's resources: every pod and the central Neutron, in one merged list.

- `kinds`: the kinds listed (server, volume, snapshot, network, port, keypair,
  image, security_group), each declared once: its list call, its project filter,
  how its items read.
- `view`: `ResourceView.page`, one exact page of a project's resources, fanned
  out with Atoll's service credentials and merged by `atoll.listing`.

This package calls pods through `atoll.pods` and never imports the web stack;
`/v1.0/resources` (atoll.api) is its only caller.
"""

from atoll.inventory.kinds import KINDS, Kind
from atoll.inventory.view import ResourceView, ViewPage, ViewQuery

__all__ = ["KINDS", "Kind", "ResourceView", "ViewPage", "ViewQuery"]
