from __future__ import annotations

from oslo_policy import policy

from atoll.policies.base import ADMIN, operation_rule


def list_rules() -> list[policy.RuleDefault]:
    return [
        operation_rule(
            "atoll:images:copy_to_pods",
            ADMIN,
            "POST",
            "/image/v2/images/{image_id}/import",
            "Copy an image to other pods with Glance's copy-image import (`stores`: pod region names, or "
            "`all_stores`); as Glance's own copy_image rule, an admin's act by default.",
        ),
    ]
