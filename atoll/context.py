"""Who is calling: the request context built from a validated Keystone token."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from atoll.types import ProjectId, RequestId, UserId


def new_request_id() -> RequestId:
    return RequestId(f"req-{uuid.uuid4()}")


@dataclasses.dataclass(frozen=True)
class RequestContext:
    """The caller of one request. It holds no token: tokens never leave the auth layer
    except to be forwarded to pods by the gateway, which reads them from the request."""

    request_id: RequestId
    user_id: UserId | None = None
    project_id: ProjectId | None = None
    domain_id: str | None = None
    roles: tuple[str, ...] = ()
    system_scope: str | None = None
    global_request_id: RequestId | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def policy_credentials(self) -> dict[str, Any]:
        """The `creds` oslo.policy checks rules against."""
        return {
            "user_id": self.user_id,
            "project_id": self.project_id,
            "domain_id": self.domain_id,
            "roles": list(self.roles),
            "system_scope": self.system_scope,
        }
