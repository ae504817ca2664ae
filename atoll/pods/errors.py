"""Why a call to a pod failed, as Atoll errors the gateway turns into fault bodies.

ServiceUnavailable (503)
 ├── PodUnreachable     the pod refused the connection, reset it, or DNS failed
 ├── PodTimeout         the pod did not answer within its timeout
 └── PodServiceMissing  the pod has no endpoint for the service asked
BadGateway (502)
 └── NotJson            the pod answered a body that is not JSON where JSON was due (also a ValueError)
"""

from __future__ import annotations

from atoll.core.errors import BadGateway, ServiceUnavailable


class PodError(ServiceUnavailable):
    def __init__(self, pod: str, message: str) -> None:
        super().__init__(message)
        self.pod = pod


class PodUnreachable(PodError):
    pass


class PodTimeout(PodError):
    pass


class PodServiceMissing(PodError):
    pass


class NotJson(BadGateway, ValueError):
    """A pod's answer that should be JSON and is not (a proxy's HTML error page in front of it): the
    pod's fault, so a 502 for the caller rather than a 500. A `ValueError` too, as a JSON parser's."""
