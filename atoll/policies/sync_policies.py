from __future__ import annotations

from oslo_policy import policy

from atoll.policies.base import ADMIN, ADMIN_OR_PROJECT_READER, operation_rule

PREFIX = "atoll:sync_policies:%s"
PATH = "/v1.0/sync-policies"
ADMIN_OR_PROJECT_MEMBER = "rule:admin_api or (role:member and project_id:%(project_id)s)"
TYPE_CHECKS = {
    "keypair": ADMIN_OR_PROJECT_MEMBER,
    "security_group": ADMIN_OR_PROJECT_MEMBER,
    "flavor": ADMIN,
    "image": ADMIN,
}


def list_rules() -> list[policy.RuleDefault]:
    def rule(name: str, check: str, method: str, path: str, description: str) -> policy.DocumentedRuleDefault:
        return operation_rule(PREFIX % name, check, method, path, description)

    kinds = [
        rule(
            f"type:{kind}",
            check,
            "POST",
            PATH,
            f"Make (or change, or delete) a sync policy of {kind}s, beside atoll:sync_policies:create "
            "(or update, delete).",
        )
        for kind, check in TYPE_CHECKS.items()
    ]
    return [
        rule(
            "create",
            ADMIN_OR_PROJECT_MEMBER,
            "POST",
            PATH,
            "Make a sync policy for the project in the body (default: the caller's).",
        ),
        *kinds,
        rule(
            "keypair_other_user",
            ADMIN,
            "POST",
            PATH,
            "Make a keypair policy for another user's keypairs (`user_id`); otherwise the caller's own.",
        ),
        rule("list", ADMIN_OR_PROJECT_READER, "GET", PATH, "List the sync policies of a project."),
        rule(
            "list_all_projects",
            ADMIN,
            "GET",
            PATH,
            "List the sync policies of every project at once. Without it, a list is narrowed to one "
            "project: the caller's, or the one named by `project_id` when atoll:sync_policies:list allows it.",
        ),
        rule(
            "show",
            ADMIN_OR_PROJECT_READER,
            "GET",
            PATH + "/{policy_id}",
            "Show a sync policy with the state of each target pod. One the caller may not see is not found.",
        ),
        rule("update", ADMIN_OR_PROJECT_MEMBER, "PUT", PATH + "/{policy_id}", "Change a sync policy."),
        rule(
            "delete",
            ADMIN_OR_PROJECT_MEMBER,
            "DELETE",
            PATH + "/{policy_id}",
            "Delete a sync policy (and, with remove_copies=true, its copies in the target pods).",
        ),
    ]
