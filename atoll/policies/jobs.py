from __future__ import annotations

from oslo_policy import policy

from atoll.policies.base import ADMIN, ADMIN_OR_PROJECT_READER, operation_rule

PREFIX = "atoll:jobs:%s"
# Redoing a job changes nothing but when it runs: a member may ask for it on its own project.
ADMIN_OR_PROJECT_MEMBER = "rule:admin_api or (role:member and project_id:%(project_id)s)"


def list_rules() -> list[policy.RuleDefault]:
    def rule(name: str, check: str, method: str, path: str, description: str) -> policy.DocumentedRuleDefault:
        return operation_rule(PREFIX % name, check, method, path, description)

    return [
        rule("list", ADMIN_OR_PROJECT_READER, "GET", "/v1.0/jobs", "List jobs (also GET /v1.0/jobs/detail)."),
        rule(
            "list_all_projects",
            ADMIN,
            "GET",
            "/v1.0/jobs",
            "List the jobs of every project at once. Without it, a list is narrowed to one project: "
            "the caller's, or the one named by `project_id` when atoll:jobs:list allows it.",
        ),
        rule("schemas", ADMIN_OR_PROJECT_READER, "GET", "/v1.0/jobs/schemas", "List job types and their resources."),
        rule(
            "show",
            ADMIN_OR_PROJECT_READER,
            "GET",
            "/v1.0/jobs/{job_id}",
            "Show a job. A job the caller may not see is reported as not found.",
        ),
        rule("create", ADMIN, "POST", "/v1.0/jobs", "Create a job of a type declared creatable."),
        rule("redo", ADMIN_OR_PROJECT_MEMBER, "PUT", "/v1.0/jobs/{job_id}", "Run a NEW or FAIL job again now."),
        rule("delete", ADMIN, "DELETE", "/v1.0/jobs/{job_id}", "Delete a job that is not running."),
    ]
