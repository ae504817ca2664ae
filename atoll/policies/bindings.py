from __future__ import annotations

from oslo_policy import policy

from atoll.policies.base import ADMIN, operation_rule

PREFIX = "atoll:bindings:%s"


def list_rules() -> list[policy.DocumentedRuleDefault]:
    def rule(name: str, method: str, path: str, description: str) -> policy.DocumentedRuleDefault:
        return operation_rule(PREFIX % name, ADMIN, method, path, description)

    return [
        rule("create", "POST", "/v1.0/bindings", "Bind a project to a pod."),
        rule("list", "GET", "/v1.0/bindings", "List project-to-pod bindings."),
        rule("show", "GET", "/v1.0/bindings/{binding_id}", "Show a binding."),
        rule("update", "PUT", "/v1.0/bindings/{binding_id}", "Activate or deactivate a binding."),
        rule("delete", "DELETE", "/v1.0/bindings/{binding_id}", "Delete a binding."),
    ]
