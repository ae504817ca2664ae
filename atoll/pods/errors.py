"""Why a call to a pod failed, as Atoll errors the gateway turns into fault bodies.

ServiceUnavailable (503)
 ├── PodUnreachable     the pod refused the connection, reset it, or DNS failed
 ├── PodTimeout         the pod did not answer within its timeout
 └── PodServiceMissing  the pod has no endpoint for the service asked
"""

from __future__ import annotations

from atoll.core.errors import ServiceUnavailable


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
