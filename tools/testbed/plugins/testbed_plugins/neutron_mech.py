"""ML2 mechanism driver that binds ports with no agent at all.

Registered as ``testbed`` in the ``neutron.ml2.mechanism_drivers`` entry
point group by the test bed's venv overlay.
"""

from typing import Any

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class TestbedMechanismDriver(api.MechanismDriver):
    """Bind each port on its first segment, as an OVS port, status ACTIVE."""

    def initialize(self) -> None:
        pass

    @property
    def connectivity(self) -> str:
        return str(portbindings.CONNECTIVITY_L2)

    def bind_port(self, context: Any) -> None:
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: True, portbindings.OVS_HYBRID_PLUG: False},
                status=constants.PORT_STATUS_ACTIVE,
            )
            return
