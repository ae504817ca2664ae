from __future__ import annotations

from oslo_policy import policy

from atoll.policies.base import ADMIN, ADMIN_OR_PROJECT_READER, operation_rule

PREFIX = "atoll:routings:%s"


def list_rules() -> list[policy.DocumentedRuleDefault]:
    def rule(name: str, check: str, method: str, path: str, description: str) -> policy.DocumentedRuleDefault:
        return operation_rule(PREFIX % name, check, method, path, description)

    return [
        rule("create", ADMIN, "POST", "/v1.0/routings", "Create a top-to-bottom resource routing."),
        rule(
            "list",
            ADMIN_OR_PROJECT_READER,
            "GET",
            "/v1.0/routings",
            "List routings: those of the caller's project, or of the project in `project_id`.",
        ),
        rule(
            "list_all_projects",
            ADMIN,
            "GET",
            "/v1.0/routings",
            "List the routings of every project at once. Without it, a list is narrowed to one "
            "project: the caller's, or the one named by `project_id` when atoll:routings:list allows it.",
        ),
        rule("show", ADMIN_OR_PROJECT_READER, "GET", "/v1.0/routings/{id}", "Show a routing."),
        rule("update", ADMIN, "PUT", "/v1.0/routings/{id}", "Change a routing."),
        rule("delete", ADMIN, "DELETE", "/v1.0/routings/{id}", "Delete a routing."),
    ]
