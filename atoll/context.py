"""Who is calling: the request context built from a validated Keystone token."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from atoll.types import ProjectId, RequestId, UserId


def new_request_id() -> RequestId:
    """`req-<uuid4>`, formatted straight from 16 random bytes (one per request: uuid.uuid4()
    builds and formats a UUID object, a few µs of the gateway hop's budget)."""
    h = os.urandom(16).hex()
    return RequestId(f"req-{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}")


@dataclasses.dataclass(frozen=True)
class RequestContext:
    """The caller of one request. It holds no token: tokens never leave the auth layer
    except to be forwarded to pods by the gateway, which reads them from the request.

    It decides nothing by itself: what a caller may do or see is always a policy rule
    (`atoll.policy.Authorizer`), never a test of its roles here.
    """

    request_id: RequestId
    user_id: UserId | None = None
    project_id: ProjectId | None = None
    domain_id: str | None = None
    """Set for a domain-scoped token only; a project's domain is `project_domain_id`."""
    roles: tuple[str, ...] = ()
    system_scope: str | None = None
    global_request_id: RequestId | None = None
    project_domain_id: str | None = None

    def policy_credentials(self) -> dict[str, Any]:
        """The `creds` oslo.policy checks rules against, under oslo.context's names.

        A scope the token does not have is left out, not set to None: otherwise a check like
        `project_id:%(project_id)s` would let a token without a project pass for a target
        without one (both format as "None"), and oslo.policy would take a project-scoped
        token that carries its project's domain for a domain-scoped one.
        """
        values = {
            "user_id": self.user_id,
            "project_id": self.project_id,
            "project_domain_id": self.project_domain_id,
            "domain_id": self.domain_id,
            "system_scope": self.system_scope,
        }
        return {"roles": list(self.roles)} | {name: value for name, value in values.items() if value is not None}
