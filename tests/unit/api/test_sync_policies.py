"""/v1.0/sync-policies: strict validation, who may make which policy, a project sees only its own,
pagination, the per-pod state shown, and deleting with or without removing the copies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from oslo_config import cfg

from atoll.api.app import create_app
from atoll.db.models import Job, SyncPolicy, SyncPolicyPod, utcnow
from atoll.engine.service import job_types
from tests.conftest import ADMIN, MEMBER, READER_B, FakeValidator
from tests.unit.api.helpers import create_pod, fault, walk
from tests.unit.jobs.helpers import Sessions

MEMBER_B = {"X-Auth-Token": "member-b"}
URL = "/v1.0/sync-policies"


@pytest.fixture
async def api(sessions: Sessions, conf: cfg.ConfigOpts) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(conf, sessions=sessions, validator=FakeValidator(), job_types=job_types())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://atoll.test") as http:
        for region, az in (("Pod1", "az1"), ("Pod2", "az2"), ("Pod3", "az2")):
            await create_pod(http, region, az)
        yield http


def policy(resource_type: str = "keypair", **overrides: Any) -> dict[str, Any]:
    body = {"resource_type": resource_type, "resources": ["k1"], "source": "Pod1", "target": {"all": True}}
    return {"sync_policy": {**body, **overrides}}


async def make(api: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] = MEMBER) -> dict[str, Any]:
    response = await api.post(URL, json=body, headers=headers)
    assert response.status_code == 200, response.text
    made: dict[str, Any] = response.json()["sync_policy"]
    return made


async def count(sessions: Sessions, model: type[Any]) -> int:
    async with sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


async def test_a_policy_is_made_for_the_caller_and_shows_every_target_pod_pending(api: httpx.AsyncClient) -> None:
    made = await make(api, policy(resources=["k1", "k2", "k1"], name="keys"))
    assert made["project_id"] == "project-a"
    assert made["user_id"] == "user-a"
    assert made["resources"] == ["k1", "k2"]
    assert made["target"] == {"all": True}
    assert made["state"] == "pending"
    assert [(p["pod"], p["state"]) for p in made["pods"]] == [("Pod2", "pending"), ("Pod3", "pending")]
    assert [r["resource"] for r in made["pods"][0]["resources"]] == ["k1", "k2"]
    shown = await api.get(f"{URL}/{made['id']}", headers=MEMBER)
    assert shown.status_code == 200, shown.text
    assert shown.json()["sync_policy"] == made


async def test_an_az_target_is_its_pods_and_never_the_source(api: httpx.AsyncClient) -> None:
    made = await make(api, policy(source="Pod2", target={"az": "az2"}))
    assert [p["pod"] for p in made["pods"]] == ["Pod3"]
    named = await make(api, policy(target={"pods": ["Pod3", "Pod3"]}))
    assert named["target"] == {"pods": ["Pod3"]}
    assert [p["pod"] for p in named["pods"]] == ["Pod3"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (policy(source="Pod9"), "Unknown source pod Pod9"),
        (policy(target={"pods": ["Pod2", "PodX"]}), "Unknown target pod(s) PodX"),
        (policy(target={"pods": ["Pod1"]}), "Pod Pod1 is the source"),
        (policy(target={"az": "az9"}), "No pod is in availability zone az9"),
        (policy(target={"all": False}), "all may only be true"),
        (policy(target={"all": "true"}), "target.all"),
        (policy(target={"az": "az1", "all": True}), "exactly one of pods, az or all"),
        (policy(target={}), "exactly one of pods, az or all"),
        (policy(target={"pods": []}), "target.pods"),
        (policy(target={"zone": "az1"}), "Unknown field sync_policy.target.zone"),
        (policy("volume"), "sync_policy.resource_type"),
        (policy(resources=[]), "sync_policy.resources"),
        (policy(resources="k1"), "sync_policy.resources"),
        (policy(resources=[5]), "sync_policy.resources.0"),
        (policy(colour="blue"), "Unknown field sync_policy.colour"),
        (policy("security_group", user_id="user-a"), "user_id applies to keypair policies only"),
        ({"sync_policy": {"resource_type": "keypair", "source": "Pod1", "target": {"all": True}}}, "resources"),
        ({"policy": {}}, "Unknown field policy"),
    ],
)
async def test_bad_requests_are_400_saying_what_and_write_nothing(
    api: httpx.AsyncClient, sessions: Sessions, body: dict[str, Any], says: str
) -> None:
    message = fault(await api.post(URL, json=body, headers=MEMBER), 400, "badRequest")
    assert says in message
    assert await count(sessions, SyncPolicy) == 0


async def test_the_top_region_is_no_pod_of_a_policy(api: httpx.AsyncClient) -> None:
    top = await api.post("/v1.0/pods", json={"pod": {"region_name": "RegionOne"}}, headers=ADMIN)
    assert top.status_code == 200, top.text
    message = fault(await api.post(URL, json=policy(source="RegionOne"), headers=MEMBER), 400, "badRequest")
    assert "Unknown source pod RegionOne" in message
    made = await make(api, policy())
    assert "RegionOne" not in [p["pod"] for p in made["pods"]]


async def test_a_member_makes_its_own_keypair_and_security_group_policies_only(
    api: httpx.AsyncClient, sessions: Sessions
) -> None:
    await make(api, policy("keypair"))
    await make(api, policy("security_group", resources=["web"]))
    for kind in ("flavor", "image"):
        says = fault(await api.post(URL, json=policy(kind), headers=MEMBER), 403, "forbidden")
        assert f"atoll:sync_policies:type:{kind}" in says
    fault(await api.post(URL, json=policy(project_id="project-b"), headers=MEMBER), 403, "forbidden")
    says = fault(await api.post(URL, json=policy(user_id="user-z"), headers=MEMBER), 403, "forbidden")
    assert "keypair_other_user" in says
    fault(await api.post(URL, json=policy(), headers=READER_B), 403, "forbidden")
    assert await count(sessions, SyncPolicy) == 2
    flavor = await make(api, policy("flavor", resources=["m1.tiny"]), ADMIN)
    assert flavor["project_id"] == "admin-project"
    other = await make(api, policy(project_id="project-b", user_id="user-z"), ADMIN)
    assert (other["project_id"], other["user_id"]) == ("project-b", "user-z")


async def test_a_project_never_sees_another_s_policies(api: httpx.AsyncClient) -> None:
    mine = await make(api, policy())
    theirs = await make(api, policy(resources=["kb"]), MEMBER_B)
    listed = (await api.get(URL, headers=MEMBER)).json()["sync_policies"]
    assert [p["id"] for p in listed] == [mine["id"]]
    assert "pods" not in listed[0]
    fault(await api.get(f"{URL}?project_id=project-b", headers=MEMBER), 403, "forbidden")
    fault(await api.get(f"{URL}?marker={theirs['id']}", headers=MEMBER), 400, "badRequest")
    for method in ("GET", "PUT", "DELETE"):
        body = {"sync_policy": {"name": "mine now"}} if method == "PUT" else None
        response = await api.request(method, f"{URL}/{theirs['id']}", json=body, headers=MEMBER)
        fault(response, 404, "itemNotFound")
    everything = (await api.get(URL, headers=ADMIN)).json()["sync_policies"]
    assert [p["id"] for p in everything] == [mine["id"], theirs["id"]]
    only_b = (await api.get(f"{URL}?project_id=project-b", headers=ADMIN)).json()["sync_policies"]
    assert [p["id"] for p in only_b] == [theirs["id"]]


async def test_pages_are_exact_and_keep_the_filters(api: httpx.AsyncClient) -> None:
    made = [(await make(api, policy(resources=[f"k{i}"], name="page")))["id"] for i in range(5)]
    await make(api, policy(name="other"))
    seen, pages = await walk(api, f"{URL}?limit=2&name=page", "sync_policies", "id")
    assert seen == made
    assert pages == 3
    fault(await api.get(f"{URL}?limit=0", headers=ADMIN), 400, "badRequest")
    fault(await api.get(f"{URL}?marker=nope", headers=ADMIN), 400, "badRequest")
    fault(await api.get(f"{URL}?resource_type=volume", headers=ADMIN), 400, "badRequest")
    fault(await api.get(f"{URL}?colour=red", headers=ADMIN), 400, "badRequest")


async def test_a_change_is_checked_again_at_once_and_strict(api: httpx.AsyncClient, sessions: Sessions) -> None:
    made = await make(api, policy())
    async with sessions.begin() as session:
        await session.execute(sa.update(SyncPolicy).values(next_check_at=utcnow().replace(year=2100)))
    url = f"{URL}/{made['id']}"
    changed = await api.put(
        url, json={"sync_policy": {"resources": ["k3"], "target": {"pods": ["Pod3"]}}}, headers=MEMBER
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()["sync_policy"]
    assert (body["resources"], body["target"], body["source"]) == (["k3"], {"pods": ["Pod3"]}, "Pod1")
    async with sessions() as session:
        due = await session.scalar(sa.select(SyncPolicy.next_check_at))
    assert due is not None
    assert due.year < 2100
    for bad, says in (
        ({"sync_policy": {}}, "at least one field"),
        ({"sync_policy": {"resource_type": "flavor"}}, "Unknown field sync_policy.resource_type"),
        ({"sync_policy": {"source": None}}, "source may not be null"),
        ({"sync_policy": {"source": "Pod3"}}, "Pod Pod3 is the source"),
        ({"sync_policy": {"target": {"pods": ["Nope"]}}}, "Unknown target pod(s) Nope"),
    ):
        assert says in fault(await api.put(url, json=bad, headers=MEMBER), 400, "badRequest")
    fault(await api.put(url, json={"sync_policy": {"name": "x"}}, headers=READER_B), 404, "itemNotFound")


async def _state(sessions: Sessions, policy_id: str, pod: str, state: str, **values: Any) -> None:
    async with sessions.begin() as session:
        session.add(
            SyncPolicyPod(
                policy_id=policy_id,
                pod=pod,
                state=state,
                resources=values.pop("resources", {}),
                reason=values.pop("reason", ""),
                checked_at=utcnow(),
                failures=0,
                **values,
            )
        )


async def test_show_gives_each_pod_s_state_and_the_worst_as_the_policy_s(
    api: httpx.AsyncClient, sessions: Sessions
) -> None:
    made = await make(api, policy())
    drifted = {"k1": {"state": "drifted", "differences": ["public_key: 'a' != 'b'"], "reason": ""}}
    await _state(sessions, made["id"], "Pod2", "drifted", resources=drifted)
    await _state(sessions, made["id"], "Pod3", "unreachable", unreachable_since=utcnow(), reason="Pod Pod3 is down.")
    await _state(sessions, made["id"], "Gone", "in_sync")  # a pod no longer registered is not shown
    shown = (await api.get(f"{URL}/{made['id']}", headers=MEMBER)).json()["sync_policy"]
    pods = {p["pod"]: p for p in shown["pods"]}
    assert list(pods) == ["Pod2", "Pod3"]
    assert pods["Pod2"]["state"] == "drifted"
    assert pods["Pod2"]["resources"] == [
        {"resource": "k1", "state": "drifted", "differences": ["public_key: 'a' != 'b'"], "reason": ""}
    ]
    assert pods["Pod3"]["state"] == "unreachable"
    assert pods["Pod3"]["reason"] == "Pod Pod3 is down."
    assert pods["Pod3"]["unreachable_since"] is not None
    assert [r["state"] for r in pods["Pod3"]["resources"]] == ["pending"]  # never compared there
    assert shown["state"] == "unreachable"
    listed = (await api.get(URL, headers=MEMBER)).json()["sync_policies"]
    assert [p["state"] for p in listed] == ["unreachable"]


async def test_delete_leaves_the_copies_unless_asked_and_never_touches_the_source(
    api: httpx.AsyncClient, sessions: Sessions
) -> None:
    kept = await make(api, policy())
    await _state(sessions, kept["id"], "Pod2", "in_sync")
    deleted = await api.delete(f"{URL}/{kept['id']}", headers=MEMBER)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"job_id": None}
    assert (await count(sessions, SyncPolicy), await count(sessions, SyncPolicyPod), await count(sessions, Job)) == (
        0,
        0,
        0,
    )
    fault(await api.get(f"{URL}/{kept['id']}", headers=MEMBER), 404, "itemNotFound")

    gone = await make(api, policy(resources=["k1", "k2"]))
    fault(await api.delete(f"{URL}/{gone['id']}?remove_copies=maybe", headers=MEMBER), 400, "badRequest")
    fault(await api.delete(f"{URL}/{gone['id']}?force=1", headers=MEMBER), 400, "badRequest")
    removed = await api.delete(f"{URL}/{gone['id']}?remove_copies=true", headers=MEMBER)
    assert removed.status_code == 200, removed.text
    job_id = removed.json()["job_id"]
    async with sessions() as session:
        rows = (await session.scalars(sa.select(Job).order_by(Job.seq))).all()
    parent = next(r for r in rows if r.id == job_id)
    assert (parent.type, parent.project_id, parent.resource["action"]) == ("sync_policy", "project-a", "remove")
    children = sorted((r.type, r.resource["target"], r.resource["resource"]) for r in rows if r.parent_id == job_id)
    assert children == [
        ("sync_remove_keypair", "Pod2", "k1"),
        ("sync_remove_keypair", "Pod2", "k2"),
        ("sync_remove_keypair", "Pod3", "k1"),
        ("sync_remove_keypair", "Pod3", "k2"),
    ]
    assert await count(sessions, SyncPolicy) == 0


async def test_a_reader_may_look_but_not_change(api: httpx.AsyncClient) -> None:
    made = await make(api, policy(), MEMBER_B)
    assert (await api.get(f"{URL}/{made['id']}", headers=READER_B)).status_code == 200
    fault(await api.put(f"{URL}/{made['id']}", json={"sync_policy": {"name": "x"}}, headers=READER_B), 403, "forbidden")
    fault(await api.delete(f"{URL}/{made['id']}", headers=READER_B), 403, "forbidden")
    flavor = await make(api, policy("flavor", project_id="project-b"), ADMIN)
    says = fault(await api.delete(f"{URL}/{flavor['id']}", headers=MEMBER_B), 403, "forbidden")
    assert "type:flavor" in says


async def test_a_policy_naming_a_pod_since_deleted_can_still_be_renamed(api: httpx.AsyncClient) -> None:
    pod = await create_pod(api, "Pod4", "az3")
    made = await make(api, policy(target={"pods": ["Pod4"]}))
    assert (await api.delete(f"/v1.0/pods/{pod['pod_id']}", headers=ADMIN)).status_code == 200
    renamed = await api.put(f"{URL}/{made['id']}", json={"sync_policy": {"name": "renamed"}}, headers=MEMBER)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["sync_policy"]["pods"] == []
    says = fault(
        await api.put(f"{URL}/{made['id']}", json={"sync_policy": {"target": {"pods": ["Pod4"]}}}, headers=MEMBER),
        400,
        "badRequest",
    )
    assert "Unknown target pod(s) Pod4" in says
