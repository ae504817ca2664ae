from __future__ import annotations

from oslo_policy import policy

from atoll.policies.base import ADMIN, operation_rule

PREFIX = "atoll:pods:%s"


def list_rules() -> list[policy.DocumentedRuleDefault]:
    def rule(name: str, method: str, path: str, description: str) -> policy.DocumentedRuleDefault:
        return operation_rule(PREFIX % name, ADMIN, method, path, description)

    return [
        rule("create", "POST", "/v1.0/pods", "Register a pod."),
        rule("list", "GET", "/v1.0/pods", "List pods with their endpoints and health."),
        rule("show", "GET", "/v1.0/pods/{pod_id}", "Show a pod."),
        rule("update", "PUT", "/v1.0/pods/{pod_id}", "Change a pod's availability zone or data center."),
        rule("delete", "DELETE", "/v1.0/pods/{pod_id}", "Unregister a pod."),
    ]
