"""What does a policy check cost? oslo.policy looking at the files in every check, against Atoll's Authorizer.

Both check the same rule (`atoll:routings:list`, a project reader, its own
project) under the same configuration: an atoll.conf and a policy.yaml
overriding one rule in one directory, as in /etc/atoll. "oslo.policy as is"
is an enforcer used the way Atoll used it before (oslo.policy stats the
policy file and looks for the policy.d directories in every check); the
Authorizer loads the rules once and leaves the files to its watcher. A third
column shows what is left: the Authorizer with oslo.policy's per-check
`inspect.getfullargspec` memoized (in this bench only). Rounds interleave
them; prints the median time per check, the file-system calls per check, and
the ratios. Not a test: it asserts nothing.

    .venv/bin/python bench/policy_check.py [--checks 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import inspect
import os
import pathlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from atoll.conf import new_config  # noqa: E402
from atoll.context import RequestContext  # noqa: E402
from atoll.policies import make_enforcer  # noqa: E402
from atoll.policy import Authorizer  # noqa: E402
from atoll.types import ProjectId, RequestId, UserId  # noqa: E402

RULE = "atoll:routings:list"
READER = RequestContext(
    request_id=RequestId("req-00000000-0000-4000-8000-000000000000"),
    user_id=UserId("u1"),
    project_id=ProjectId("p1"),
    project_domain_id="default",
    roles=("member", "reader"),
)
TARGET = {"project_id": "p1"}


def per_check(check: Callable[[], bool], n: int) -> float:
    """Seconds per check, over n checks in a row."""
    start = time.perf_counter()
    for _ in range(n):
        check()
    return (time.perf_counter() - start) / n


@contextmanager
def counting_file_calls() -> Iterator[list[int]]:
    """Counts os.stat, os.listdir and os.scandir calls (os.path.exists, getmtime, isdir go through os.stat)."""
    count = [0]
    saved = {name: getattr(os, name) for name in ("stat", "listdir", "scandir")}

    def counted(real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            count[0] += 1
            return real(*args, **kwargs)

        return call

    for name, real in saved.items():
        setattr(os, name, counted(real))
    try:
        yield count
    finally:
        for name, real in saved.items():
            setattr(os, name, real)


@contextmanager
def argspec_memoized() -> Iterator[None]:
    """oslo.policy's `_checks._check` with `inspect.getfullargspec` of each check class computed once.

    oslo.policy calls getfullargspec on every node of a rule in every check (to
    tell legacy check classes from current ones); this shows what that costs.
    Atoll does not do this: it patches a library's private function."""
    from oslo_policy import _checks

    real = _checks._check
    legacy: dict[type, bool] = {}

    def check(rule: Any, target: Any, creds: Any, enforcer: Any, current_rule: Any) -> bool:
        kind = type(rule)
        if kind not in legacy:
            legacy[kind] = len(inspect.getfullargspec(rule.__call__).args) <= 4
        if legacy[kind]:
            return bool(rule(target, creds, enforcer))
        return bool(rule(target, creds, enforcer, current_rule))

    _checks._check = check
    try:
        yield
    finally:
        _checks._check = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = pathlib.Path(tmp, "atoll.conf")
        config.write_text("[oslo_policy]\npolicy_file = policy.yaml\n")
        pathlib.Path(tmp, "policy.yaml").write_text('"atoll:pods:list": "role:admin"\n')
        conf = new_config(["--config-file", str(config)])
        enforcer = make_enforcer(conf)
        authorizer = Authorizer(conf)

        def as_is() -> bool:
            return bool(enforcer.authorize(RULE, TARGET, READER.policy_credentials(), do_raise=False))

        def watched() -> bool:
            return authorizer.check(READER, RULE, TARGET)

        if not (as_is() and watched()):  # the same answer; both have loaded their rules now
            raise SystemExit("the two enforcers disagree: the bench measures nothing")
        calls = {}
        for name, check in (("as_is", as_is), ("watched", watched)):
            with counting_file_calls() as count:
                per_check(check, 1000)
            calls[name] = count[0] / 1000
        calls["memoized"] = calls["watched"]
        results: dict[str, list[float]] = {"as_is": [], "watched": [], "memoized": []}
        for _ in range(args.rounds):
            results["as_is"].append(per_check(as_is, args.checks))
            results["watched"].append(per_check(watched, args.checks))
            with argspec_memoized():
                results["memoized"].append(per_check(watched, args.checks))
    medians = {name: statistics.median(values) for name, values in results.items()}
    print(f"{args.rounds} rounds x {args.checks} checks of {RULE}, median per check:")
    for name, label in LABELS.items():
        print(f"  {label:<52} {medians[name] * 1e6:8.1f} us  {calls[name]:4.1f} file-system calls")
    print(f"  ratio as is / watched:                     {medians['as_is'] / medians['watched']:.2f}")
    print(f"  ratio watched / watched, argspec memoized: {medians['watched'] / medians['memoized']:.2f}")


LABELS = {
    "as_is": "oslo.policy as is (files looked at in every check)",
    "watched": "Atoll's Authorizer (files watched)",
    "memoized": "the same, oslo.policy's getfullargspec memoized",
}


if __name__ == "__main__":
    main()
