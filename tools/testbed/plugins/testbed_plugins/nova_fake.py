"""Nova's fake virt driver with snapshots that reach Glance.

The stock ``FakeDriver.snapshot`` only moves the instance's task state, so the
image a snapshot makes (``createImage``, ``shelve``) stays ``queued`` and a
client waiting for it to become active waits forever. This subclass uploads a
small disk into it, as the libvirt driver uploads the guest's disk.

Nova loads a compute driver from ``nova.virt`` only, so the bed also writes this
module as ``nova/virt/testbed_fake.py`` into Nova's venv (``compute_driver =
testbed_fake.TestbedFakeDriver``).
"""

import io
from typing import Any

from nova.image import glance
from nova.virt import fake

DISK = bytes(range(256)) * 256
"""The snapshot's bytes (64 KiB): a disk of nothing, but data Glance checksums and serves."""


class TestbedFakeDriver(fake.FakeDriver):
    def snapshot(self, context: Any, instance: Any, image_id: str, update_task_state: Any) -> None:
        super().snapshot(context, instance, image_id, update_task_state)
        metadata = {"disk_format": "raw", "container_format": "bare"}
        glance.API().update(context, image_id, metadata, io.BytesIO(DISK), purge_props=False)
