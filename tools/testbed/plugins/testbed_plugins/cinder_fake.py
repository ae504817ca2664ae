"""Fake Cinder volume driver with working image <-> volume copies.

The stock ``FakeLoggingVolumeDriver`` creates/attaches volumes without any
storage, but copying an image into a volume (volume-from-image, hence
boot-from-volume) goes through os-brick, qemu-img and sudo.  This subclass
keeps each volume's bytes in a plain file under ``<state_path>/tb-volumes``
and does the copies itself.
"""

import contextlib
import os
import shutil
import tempfile
from typing import Any

from cinder.tests import fake_driver
from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)
CONF = cfg.CONF


class TestbedFakeVolumeDriver(fake_driver.FakeLoggingVolumeDriver):
    def _data_path(self, volume: Any) -> str:
        base = os.path.join(CONF.state_path, "tb-volumes")
        os.makedirs(base, exist_ok=True)
        return os.path.join(base, volume["id"])

    def delete_volume(self, volume: Any) -> None:
        super().delete_volume(volume)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._data_path(volume))

    def create_cloned_volume(self, volume: Any, src_vref: Any) -> Any:
        ret = super().create_cloned_volume(volume, src_vref)
        src = self._data_path(src_vref)
        if os.path.exists(src):
            shutil.copyfile(src, self._data_path(volume))
        return ret

    def clone_image(
        self, context: Any, volume: Any, image_location: Any, image_meta: dict[str, Any], image_service: Any
    ) -> tuple[dict[str, Any], bool]:
        # Doing the copy here lets the create flow skip its own download
        # path, which needs qemu-img to inspect the image.
        self.create_volume(volume)
        self.copy_image_to_volume(context, volume, image_service, image_meta["id"])
        return {}, True

    def copy_image_to_volume(
        self, context: Any, volume: Any, image_service: Any, image_id: str, disable_sparse: bool = False
    ) -> None:
        path = self._data_path(volume)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(fd, "wb") as out:
            image_service.download(context, image_id, out)
        os.replace(tmp, path)
        LOG.info("testbed: copied image %s into volume %s (%d bytes)", image_id, volume["id"], os.path.getsize(path))

    def copy_image_to_encrypted_volume(
        self, context: Any, volume: Any, image_service: Any, image_id: str, disable_sparse: bool = False
    ) -> None:
        self.copy_image_to_volume(context, volume, image_service, image_id)

    def copy_volume_to_image(self, context: Any, volume: Any, image_service: Any, image_meta: dict[str, Any]) -> None:
        path = self._data_path(volume)
        if not os.path.exists(path):
            with open(path, "wb") as out:
                out.write(b"\0" * 4096)
        with open(path, "rb") as data:
            image_service.update(context, image_meta["id"], {}, data)
        LOG.info("testbed: uploaded volume %s to image %s", volume["id"], image_meta["id"])
