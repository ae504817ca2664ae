"""oslo.policy rules, defined in code (namespace `atoll`).

Operators override any rule in a policy.yaml (`[oslo_policy] policy_file`);
`oslopolicy-sample-generator --namespace atoll` prints the defaults.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from oslo_config import cfg
from oslo_policy import policy

from atoll.policies import base, bindings, images, jobs, pods, resources, routings, sync, sync_policies


def list_rules() -> list[policy.RuleDefault]:
    rules: Iterable[policy.RuleDefault] = itertools.chain(
        base.list_rules(),
        pods.list_rules(),
        bindings.list_rules(),
        routings.list_rules(),
        jobs.list_rules(),
        resources.list_rules(),
        sync.list_rules(),
        sync_policies.list_rules(),
        images.list_rules(),
    )
    return list(rules)


def get_enforcer() -> policy.Enforcer:
    """Entry point for oslopolicy-* tools: an enforcer over the global config."""
    from atoll.conf import CONF

    cfg.CONF([], project="atoll")
    return make_enforcer(CONF)


def make_enforcer(conf: cfg.ConfigOpts) -> policy.Enforcer:
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(list_rules())
    return enforcer
