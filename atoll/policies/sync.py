from __future__ import annotations

from oslo_policy import policy

from atoll.policies.base import ADMIN, ADMIN_OR_PROJECT_READER, operation_rule

PREFIX = "atoll:sync:%s"
PATH = "/v1.0/{project_id}/os-sync"
ADMIN_OR_PROJECT_MEMBER = "rule:admin_api or (role:member and project_id:%(project_id)s)"


def list_rules() -> list[policy.RuleDefault]:
    def rule(name: str, check: str, method: str, path: str, description: str) -> policy.DocumentedRuleDefault:
        return operation_rule(PREFIX % name, check, method, path, description)

    return [
        rule(
            "create",
            ADMIN_OR_PROJECT_MEMBER,
            "POST",
            PATH,
            "Sync resources of the project in the path from one pod to others (a member: its own project only).",
        ),
        rule(
            "flavor",
            ADMIN,
            "POST",
            PATH,
            "Sync flavors (creating flavors in pods is an admin's act, as in Nova).",
        ),
        rule(
            "keypair_other_user",
            ADMIN,
            "POST",
            PATH,
            "Sync another user's keypair (`user_id` in the request); otherwise the caller's own.",
        ),
        rule("list", ADMIN_OR_PROJECT_READER, "GET", PATH, "List the project's sync jobs (also .../active)."),
        rule("show", ADMIN_OR_PROJECT_READER, "GET", PATH + "/{job_id}", "Show a sync job, part by part."),
        rule("delete", ADMIN_OR_PROJECT_MEMBER, "DELETE", PATH + "/{job_id}", "Delete a finished sync job."),
    ]
