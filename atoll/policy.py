"""Checks a request context against the oslo.policy rules."""

from __future__ import annotations

from typing import Any

from oslo_config import cfg
from oslo_policy import policy

from atoll.context import RequestContext
from atoll.core.errors import Forbidden
from atoll.policies import make_enforcer


class Authorizer:
    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._enforcer = make_enforcer(conf)

    def authorize(self, context: RequestContext, rule: str, target: dict[str, Any] | None = None) -> None:
        """Raise `Forbidden` unless `context` passes `rule` for `target`."""
        target = target if target is not None else {"project_id": context.project_id}
        try:
            allowed = self._enforcer.authorize(rule, target, context.policy_credentials(), do_raise=False)
        except policy.InvalidScope:
            allowed = False
        if not allowed:
            raise Forbidden(f"Policy doesn't allow {rule} to be performed.")

    def check(self, context: RequestContext, rule: str, target: dict[str, Any] | None = None) -> bool:
        try:
            self.authorize(context, rule, target)
        except Forbidden:
            return False
        return True
