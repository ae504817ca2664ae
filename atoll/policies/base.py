"""The rules other rules are built from, and how an operation's rule is declared.

Every operation rule is project-scoped (`scope_types=["project"]`), as in Nova,
Cinder and Neutron: oslo.policy refuses a domain- or system-scoped token
before the check string is evaluated, whatever an operator's policy.yaml says.
"""

from __future__ import annotations

from oslo_policy import policy

ADMIN = "rule:admin_api"
PROJECT_READER = "rule:project_reader"
ADMIN_OR_PROJECT_READER = "rule:admin_or_project_reader"

SCOPES = ["project"]


def list_rules() -> list[policy.RuleDefault]:
    return [
        policy.RuleDefault("admin_api", "role:admin", description="A caller with the admin role."),
        policy.RuleDefault(
            "project_reader",
            "role:reader and project_id:%(project_id)s",
            description="A reader (or member, or admin: Keystone implies reader) of the target's project.",
        ),
        policy.RuleDefault(
            "admin_or_project_reader",
            "rule:admin_api or rule:project_reader",
            description="An admin, or a reader of the target's project.",
        ),
    ]


def operation_rule(name: str, check: str, method: str, path: str, description: str) -> policy.DocumentedRuleDefault:
    """A rule guarding one API operation."""
    return policy.DocumentedRuleDefault(
        name=name,
        check_str=check,
        description=description,
        operations=[{"method": method, "path": path}],
        scope_types=SCOPES,
    )
