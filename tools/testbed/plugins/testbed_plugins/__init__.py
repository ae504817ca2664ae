"""Small plugins the test bed installs into the service venvs.

- ``neutron_mech``: an ML2 mechanism driver that binds every port without an
  agent, so Nova can boot servers against a Neutron that has no agents.
- ``cinder_fake``: a fake Cinder volume driver that also supports
  volume-from-image and upload-to-image without sudo, qemu-img or os-brick.
"""
