from __future__ import annotations

from oslo_policy import policy

from atoll.policies.base import ADMIN, PROJECT_READER, operation_rule

PREFIX = "atoll:resources:%s"


def list_rules() -> list[policy.RuleDefault]:
    return [
        operation_rule(
            PREFIX % "list",
            PROJECT_READER,
            "GET",
            "/v1.0/resources",
            "List the resources of the caller's own project in every pod.",
        ),
        operation_rule(
            PREFIX % "list_all_projects",
            ADMIN,
            "GET",
            "/v1.0/resources",
            "List the resources of any project (`project_id` other than the caller's).",
        ),
    ]
