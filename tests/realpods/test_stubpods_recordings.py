"""The stubs' recordings are still what the test bed's services answer.

Records the real services again (`stubpods.capture`, against Pod1) and checks that every recorded answer
has the status, headers and body shape of the committed recording the stubs are tested against, and
that every recorded paging query still answers with the same status, with or without items as before.
When this fails after a service upgrade, re-record (`python -m stubpods capture`) and mend the stubs
until tests/unit/stubpods passes again.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from stubpods import capture
from stubpods.recorded import load

from tests.unit.stubpods.test_fidelity import OPAQUE

pytestmark = pytest.mark.realpods

SERVICES = ("keystone", "nova", "cinder", "glance", "neutron", "placement")
VOLATILE = {"x-openstack-request-id", "x-compute-request-id", "location", "content-md5", "content-length"}


def every_path(value: Any, prefix: str = "", key: str | None = None) -> set[str]:
    """`a.b[].c: type` for every item of every list (the real services' list order is not stable)."""
    if isinstance(value, dict) and key not in OPAQUE:
        return set().union(*(every_path(v, f"{prefix}.{k}", k) for k, v in value.items())) or {prefix + ": {}"}
    if isinstance(value, list):
        return set().union(*(every_path(v, prefix + "[]", key) for v in value)) or {prefix + ": []"}
    return {f"{prefix}: {'mapping' if isinstance(value, dict) else type(value).__name__}"}


def nullable(differing: set[str], other: set[str]) -> set[str]:
    """`differing` less a field that is null on one side and has a value on the other.

    Fields such as a security group rule's `description` are null or a string depending on who made
    the resource; other tests on the same bed make such resources, so either may be recorded.
    """
    fields = {path.rsplit(": ", 1)[0] for path in other}
    nulls = {path.rsplit(": ", 1)[0] for path in other if path.endswith(": NoneType")}
    return {
        path
        for path in differing
        if not (path.endswith(": NoneType") and path.rsplit(": ", 1)[0] in fields)
        and path.rsplit(": ", 1)[0] not in nulls
    }


@pytest.fixture(scope="module")
def fresh(testbed: Any, tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("recorded")
    capture.capture(testbed.state_dir, out, testbed.pod_regions[0])
    return out


def _load(out: pathlib.Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / f"{name}.json").read_text())
    return data


@pytest.mark.parametrize("service", SERVICES)
def test_answers_keep_their_shape(fresh: pathlib.Path, service: str) -> None:
    committed, now = load(service), _load(fresh, service)
    assert set(now) == set(committed)
    changed = []
    for name, old in committed.items():
        new = now[name]
        if new["status"] != old["status"]:
            changed.append(f"{name}: status {old['status']} -> {new['status']}")
        old_headers = {k: v for k, v in old["headers"].items() if k not in VOLATILE}
        new_headers = {k: v for k, v in new["headers"].items() if k not in VOLATILE}
        if set(old_headers) != set(new_headers):
            changed.append(f"{name}: headers {sorted(old_headers)} -> {sorted(new_headers)}")
        if old["body"] is not None and not isinstance(old["body"].get("text"), str):
            old_paths, new_paths = every_path(old["body"]), every_path(new["body"])
            gone, added = nullable(old_paths - new_paths, new_paths), nullable(new_paths - old_paths, old_paths)
            if gone or added:
                changed.append(f"{name}: body lost {sorted(gone)}, gained {sorted(added)}")
    assert not changed, "\n".join(changed)


@pytest.mark.parametrize("service", ["nova", "cinder", "glance", "neutron"])
def test_paging_queries_answer_alike(fresh: pathlib.Path, service: str) -> None:
    committed, now = load(f"{service}-paging"), _load(fresh, f"{service}-paging")
    assert set(now["queries"]) == set(committed["queries"])
    for query, old in committed["queries"].items():
        new = now["queries"][query]
        # other tests may leave resources in the project, so the counts may differ; the outcome may not
        assert (new["status"], bool(new["ids"])) == (old["status"], bool(old["ids"])), query
