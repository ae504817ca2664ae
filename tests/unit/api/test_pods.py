from __future__ import annotations

import httpx

from tests.conftest import ADMIN, MEMBER


async def test_create_list_show_delete_pod(client: httpx.AsyncClient) -> None:
    created = await client.post("/v1.0/pods", json={"pod": {"region_name": "RegionOne"}}, headers=ADMIN)
    assert created.status_code == 200, created.text
    top = created.json()["pod"]
    assert top["region_name"] == "RegionOne"
    assert top["az_name"] == ""
    assert top["is_top"] is True
    bottom = (
        await client.post("/v1.0/pods", json={"pod": {"pod_name": "Pod1", "az_name": "az1"}}, headers=ADMIN)
    ).json()["pod"]
    assert bottom["region_name"] == "Pod1"
    assert bottom["is_top"] is False
    listed = (await client.get("/v1.0/pods", headers=ADMIN)).json()["pods"]
    assert [p["region_name"] for p in listed] == ["RegionOne", "Pod1"]
    shown = await client.get(f"/v1.0/pods/{bottom['pod_id']}", headers=ADMIN)
    assert shown.json()["pod"]["pod_id"] == bottom["pod_id"]
    deleted = await client.delete(f"/v1.0/pods/{bottom['pod_id']}", headers=ADMIN)
    assert deleted.status_code == 200
    assert deleted.json() == {}
    gone = await client.get(f"/v1.0/pods/{bottom['pod_id']}", headers=ADMIN)
    assert gone.status_code == 404
    assert gone.json() == {"itemNotFound": {"code": 404, "message": f"Pod {bottom['pod_id']} could not be found."}}


async def test_second_top_pod_and_duplicate_region_conflict(client: httpx.AsyncClient) -> None:
    assert (await client.post("/v1.0/pods", json={"pod": {"region_name": "Top"}}, headers=ADMIN)).status_code == 200
    second = await client.post("/v1.0/pods", json={"pod": {"region_name": "Top2"}}, headers=ADMIN)
    assert second.status_code == 409
    assert "top pod" in second.json()["conflictingRequest"]["message"]
    duplicate = await client.post("/v1.0/pods", json={"pod": {"region_name": "Top", "az_name": "az"}}, headers=ADMIN)
    assert duplicate.status_code == 409


async def test_member_cannot_create_pods(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1.0/pods", json={"pod": {"region_name": "Pod1", "az_name": "a"}}, headers=MEMBER)
    assert response.status_code == 403
    assert response.json()["forbidden"]["code"] == 403
    assert (await client.get("/v1.0/pods", headers=ADMIN)).json() == {"pods": []}
