"""security_group: the project's group, by name or id, with the same description and rules.

Rules are compared by what Neutron itself compares for duplicates (direction, ethertype,
protocol, ports, remote prefix, remote group); a remote group is compared by name, and
mapped to the target's group of that name in the same project (sync it first if the
target lacks it). Kingbird advertised this resource type and never built it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atoll.jobs.outcomes import Done, Fail, Outcome, PermanentError, TemporaryError
from atoll.sync.calls import PodCalls, brief, segment
from atoll.sync.task import Subject, SyncTask, differ_reason

Rule = tuple[Any, ...]
RULE_FIELDS = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_ip_prefix")


class Unmappable(Exception):
    pass


async def _groups(calls: PodCalls, region: str, project_id: str) -> list[dict[str, Any]]:
    found = await calls.json(region, "network", "/v2.0/security-groups", params=[("project_id", project_id)])
    groups: list[dict[str, Any]] = found["security_groups"]
    return groups


def _find(groups: Sequence[dict[str, Any]], wanted: str, region: str) -> dict[str, Any] | None:
    by_id = [g for g in groups if g["id"] == wanted]
    if by_id:
        return by_id[0]
    named = [g for g in groups if g["name"] == wanted]
    if len(named) > 1:
        raise PermanentError(f"{len(named)} security groups are named {wanted} in {region}; name one by id.")
    return named[0] if named else None


def _rule_key(rule: dict[str, Any], names: dict[str, str], *, strict: bool = True) -> Rule:
    remote = rule.get("remote_group_id")
    remote_name = None
    if remote is not None:
        if remote not in names and strict:
            raise Unmappable(remote)
        remote_name = names.get(remote, remote)
    return (*(rule.get(k) for k in RULE_FIELDS), remote_name)


def _describe(rule: Rule) -> str:
    direction, ethertype, protocol, low, high, prefix, group = rule
    ports = "" if low is None else f" {low}-{high}"
    remote = f" from group {group}" if group else f" {prefix or 'any'}"
    return f"{direction} {ethertype} {protocol or 'any'}{ports}{remote}"


def _rules(group: dict[str, Any], names: dict[str, str], *, strict: bool = True) -> dict[Rule, dict[str, Any]]:
    return {_rule_key(r, names, strict=strict): r for r in group["security_group_rules"]}


async def _create_group(calls: PodCalls, task: SyncTask, source: dict[str, Any]) -> dict[str, Any]:
    body = {"name": source["name"], "description": source["description"], "project_id": task.project_id}
    made = await calls.call(task.target, "network", "POST", "/v2.0/security-groups", json_body={"security_group": body})
    if made.status in (403, 409):
        # Seen on the real Neutron when two groups of a project that has no default group yet are
        # created at once (each makes the default group); a real refusal fails after the retries.
        raise TemporaryError(f"Creating security group {source['name']} in {task.target}: {made.status} {brief(made)}")
    if made.status != 201:
        raise PermanentError(f"Creating security group {source['name']} in {task.target}: {made.status} {brief(made)}")
    group: dict[str, Any] = made.json()["security_group"]
    await task.mark_created(group_id=group["id"])
    return group


async def _add_rule(calls: PodCalls, task: SyncTask, group_id: str, rule: Rule, ids: dict[str, str]) -> None:
    body: dict[str, Any] = {k: v for k, v in zip(RULE_FIELDS, rule[:-1], strict=True) if v is not None}
    body.update(security_group_id=group_id, project_id=task.project_id)
    if rule[-1] is not None:
        body["remote_group_id"] = ids[rule[-1]]
    made = await calls.call(
        task.target, "network", "POST", "/v2.0/security-group-rules", json_body={"security_group_rule": body}
    )
    if made.status not in (201, 409):  # 409: the same rule exists (made by an earlier attempt)
        raise PermanentError(f"Adding rule {_describe(rule)} in {task.target}: {made.status} {brief(made)}")


def _compare(
    source: dict[str, Any],
    want: dict[Rule, dict[str, Any]],
    target: dict[str, Any],
    target_groups: list[dict[str, Any]],
) -> tuple[list[Rule], list[Rule], dict[Rule, dict[str, Any]], list[str]]:
    """The target's missing and extra rules, its rules by key, and the differences (target != source)."""
    names = {**{g["id"]: g["name"] for g in target_groups}, target["id"]: source["name"]}
    have = _rules(target, names, strict=False)
    missing = [r for r in want if r not in have]
    extra = [r for r in have if r not in want]
    diffs = [f"missing rule {_describe(r)}" for r in missing] + [f"extra rule {_describe(r)}" for r in extra]
    if target["description"] != source["description"]:
        diffs.insert(0, f"description: {target['description']!r} != {source['description']!r}")
    return missing, extra, have, diffs


async def sync(calls: PodCalls, task: SyncTask) -> Outcome:
    source_groups = await task.source_read(
        f"groups {task.project_id}", lambda: _groups(calls, task.source, task.project_id)
    )
    source = _find(source_groups, task.resource, task.source)
    if source is None:
        return Fail(f"Security group {task.resource} of project {task.project_id} does not exist in {task.source}.")
    name = source["name"]
    target_groups = await _groups(calls, task.target, task.project_id)
    target = _find(target_groups, task.progress.get("group_id") or name, task.target)
    if target is None:
        target = await _create_group(calls, task, source)
        target_groups.append(target)
    names = {g["id"]: g["name"] for g in source_groups}
    target_ids: dict[str, str] = {}
    for group in target_groups:
        target_ids.setdefault(group["name"], group["id"])
    target_ids[name] = target["id"]
    try:
        want = _rules(source, names)
    except Unmappable as error:
        return Fail(f"A rule of security group {name} in {task.source} names a remote group {error} Atoll cannot read.")
    missing_remote = sorted({r[-1] for r in want if r[-1] is not None and r[-1] not in target_ids})
    if missing_remote:  # maybe synced by a sibling job right now: wait for it, then give up saying why
        raise TemporaryError(
            f"Security group {name}: its rules name remote group(s) {', '.join(missing_remote)}, absent from "
            f"{task.target}; sync those too."
        )
    missing, extra, have, diffs = _compare(source, want, target, target_groups)
    if not diffs:
        return Done()
    if not task.may_change:
        return Fail(differ_reason("Security group", name, task.target, diffs))
    if target["description"] != source["description"]:
        body = {"security_group": {"description": source["description"]}}
        await calls.call(
            task.target, "network", "PUT", f"/v2.0/security-groups/{segment(target['id'])}", json_body=body
        )
    for rule in missing:
        await _add_rule(calls, task, target["id"], rule, target_ids)
    for rule in extra:
        gone = await calls.call(
            task.target, "network", "DELETE", f"/v2.0/security-group-rules/{segment(have[rule]['id'])}"
        )
        if gone.status not in (204, 404):
            raise PermanentError(f"Deleting rule {_describe(rule)} in {task.target}: {gone.status} {brief(gone)}")
    return Done()


async def read_source(calls: PodCalls, subject: Subject) -> dict[str, Any]:
    groups = await _groups(calls, subject.source, subject.project_id)
    found = _find(groups, subject.resource, subject.source)
    if found is None:
        raise PermanentError(
            f"Security group {subject.resource} of project {subject.project_id} does not exist in {subject.source}."
        )
    try:
        want = _rules(found, {g["id"]: g["name"] for g in groups})
    except Unmappable as error:
        raise PermanentError(
            f"A rule of security group {found['name']} names a remote group {error} Atoll cannot read."
        ) from error
    return {"group": found, "want": want}


async def drift(calls: PodCalls, subject: Subject, source: dict[str, Any], target: str) -> list[str] | None:
    groups = await _groups(calls, target, subject.project_id)
    found = _find(groups, source["group"]["name"], target)
    if found is None:
        return None
    return _compare(source["group"], source["want"], found, groups)[3]


async def remove(calls: PodCalls, task: SyncTask) -> Outcome:
    """Delete the target's group of the source group's name (read in the source when named by id)."""
    name = task.resource
    target_groups = await _groups(calls, task.target, task.project_id)
    if not any(g["name"] == name for g in target_groups):
        source = _find(await _groups(calls, task.source, task.project_id), name, task.source)
        if source is None:
            return Done()  # named by an id the source no longer has: nothing Atoll can find by name
        name = source["name"]
    found = _find(target_groups, name, task.target)
    if found is None:
        return Done()
    gone = await calls.call(task.target, "network", "DELETE", f"/v2.0/security-groups/{segment(found['id'])}")
    if gone.status not in (204, 404):
        return Fail(f"Deleting security group {name} in {task.target}: {gone.status} {brief(gone)}")
    return Done()
