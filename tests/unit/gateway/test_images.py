"""Glance through the gateway, on two fake pods (Nova and Glance each): create in one pod, data
streamed both ways, writes to every copy, one de-duplicated list, copies before a create."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from atoll.db.models import Job, ResourceRouting
from atoll.gateway.image import metadefs
from atoll.types import PodStatus, ProjectId, ResourceType
from tests.conftest import ADMIN, MEMBER
from tests.unit.gateway.conftest import Bed, with_service_credentials
from tests.unit.gateway.fakeglance import FakeGlance
from tests.unit.gateway.test_volumes import clouds  # noqa: F401  (a fixture)

V2 = "/image/v2"
IMAGE = "9d4e1c2a-3b5f-4a6e-8c7d-0e1f2a3b4c5d"
OTHER = "1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"


@pytest.fixture
async def gbed(bed: Bed) -> AsyncIterator[Bed]:
    """The bed's gateway built again with Atoll's service credentials (a fixed token)."""
    async for served in with_service_credentials(bed):
        yield served


@pytest.fixture
async def gclouds(clouds: Bed) -> AsyncIterator[Bed]:  # noqa: F811
    """The same with Cinder in the pods too."""
    async for served in with_service_credentials(clouds):
        yield served


def glance(bed: Bed, pod: str) -> FakeGlance:
    return bed.pods[pod].glance


async def image_routings(bed: Bed) -> list[tuple[str, str]]:
    async with bed.sessions() as session:
        rows = (await session.scalars(sa.select(ResourceRouting).where(ResourceRouting.resource_type == "image"))).all()
    names = {str(v): k for k, v in bed.ids.items()}
    return sorted((r.top_id, names[r.pod_id]) for r in rows if r.bottom_id is not None)


async def chunked(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def test_create_goes_to_one_pod_under_the_clients_id_or_atolls(gbed: Bed) -> None:
    made = await gbed.http.post(f"{V2}/images", json={"id": IMAGE, "name": "a", "disk_format": "raw"}, headers=MEMBER)
    assert made.status_code == 201, made.text
    assert made.json()["id"] == IMAGE
    [(top, pod)] = await image_routings(gbed)
    assert top == IMAGE
    assert list(glance(gbed, pod).images) == [IMAGE]
    assert all(IMAGE not in glance(gbed, p).images for p in gbed.pods if p != pod)
    again = await gbed.http.post(f"{V2}/images", json={"id": IMAGE, "name": "b"}, headers=MEMBER)
    assert again.status_code == 409
    assert again.json()["title"] == "Conflict"
    chosen = await gbed.http.post(f"{V2}/images", json={"name": "c"}, headers=MEMBER)
    assert chosen.status_code == 201
    assert len(chosen.json()["id"]) == 36
    not_an_object = await gbed.http.post(f"{V2}/images", json=[1], headers=MEMBER)
    assert not_an_object.status_code == 400
    assert not_an_object.json()["code"] == "400 Bad Request"


async def test_an_id_taken_in_another_pod_is_refused(gbed: Bed) -> None:
    glance(gbed, "Pod2").add(IMAGE, b"x")
    refused = await gbed.http.post(f"{V2}/images", json={"id": IMAGE}, headers=MEMBER)
    assert refused.status_code == 409
    assert await image_routings(gbed) == []


async def test_upload_is_streamed_to_the_home_pod_and_download_streamed_back(gbed: Bed) -> None:
    made = await gbed.http.post(f"{V2}/images", json={"id": IMAGE, "name": "a"}, headers=MEMBER)
    assert made.status_code == 201
    [(_, home)] = await image_routings(gbed)
    data = bytes(range(256)) * 8192  # 2 MiB
    octets = {"Content-Type": "application/octet-stream", **MEMBER}
    put = await gbed.http.put(f"{V2}/images/{IMAGE}/file", content=chunked(data), headers=octets)
    assert put.status_code == 204, put.text
    [upload] = glance(gbed, home).uploads
    assert upload["chunks"] > 1  # passed on as it came, not gathered first
    assert upload["content_length"] is None  # chunked in, chunked on
    assert glance(gbed, home).images[IMAGE]["checksum"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    sized = await gbed.http.post(f"{V2}/images", json={"id": OTHER}, headers=MEMBER)
    assert sized.status_code == 201
    put = await gbed.http.put(f"{V2}/images/{OTHER}/file", content=b"abc", headers=octets)
    assert put.status_code == 204
    [second] = [u for p in gbed.pods for u in glance(gbed, p).uploads if u["image"] == OTHER]
    assert second["content_length"] == "3"  # the client's Content-Length passed through
    async with gbed.http.stream("GET", f"{V2}/images/{IMAGE}/file", headers=MEMBER) as got:
        assert got.status_code == 200
        assert got.headers["content-length"] == str(len(data))
        assert b"".join([chunk async for chunk in got.aiter_bytes()]) == data
    wrong_type = await gbed.http.put(f"{V2}/images/{OTHER}/file", content=b"x", headers=MEMBER)
    assert wrong_type.status_code == 415  # Glance's answer, relayed


async def test_list_shows_an_image_held_by_both_pods_once(gbed: Bed) -> None:
    for pod in ("Pod1", "Pod2"):
        glance(gbed, pod).add(IMAGE, b"same", name="shared")
    glance(gbed, "Pod1").add(OTHER, b"one", name="only-1")
    glance(gbed, "Pod2").add("5a5a5a5a-0000-4000-8000-000000000002", b"two", name="only-2")
    listed = await gbed.http.get(f"{V2}/images", headers=MEMBER)
    assert listed.status_code == 200
    ids = [i["id"] for i in listed.json()["images"]]
    assert sorted(ids) == sorted([IMAGE, OTHER, "5a5a5a5a-0000-4000-8000-000000000002"])
    assert listed.json()["first"] == "/v2/images"
    assert listed.json()["schema"] == "/v2/schemas/images"
    seen: list[str] = []
    url = f"{V2}/images?limit=1"
    while True:
        page = (await gbed.http.get(url, headers=MEMBER)).json()
        seen += [i["id"] for i in page["images"]]
        if "next" not in page:
            break
        assert page["next"].startswith("/v2/images?")
        url = "/image" + page["next"]
    assert sorted(seen) == sorted(ids)
    by_id = await gbed.http.get(f"{V2}/images?limit=1&marker={ids[0]}", headers=MEMBER)
    assert [i["id"] for i in by_id.json()["images"]] == ids[1:2]
    unknown = await gbed.http.get(f"{V2}/images?marker={IMAGE[:-1]}0", headers=MEMBER)
    assert unknown.status_code == 400


async def test_patch_tags_and_delete_reach_every_copy(gbed: Bed) -> None:
    for pod in ("Pod1", "Pod2"):
        glance(gbed, pod).add(IMAGE, b"same")
    patch = {"Content-Type": "application/openstack-images-v2.1-json-patch", **MEMBER}
    ops = b'[{"op": "add", "path": "/color", "value": "blue"}]'
    patched = await gbed.http.patch(f"{V2}/images/{IMAGE}", content=ops, headers=patch)
    assert patched.status_code == 200
    assert patched.json()["color"] == "blue"
    tagged = await gbed.http.put(f"{V2}/images/{IMAGE}/tags/t1", headers=MEMBER)
    assert tagged.status_code == 204
    for pod in ("Pod1", "Pod2"):
        assert glance(gbed, pod).images[IMAGE]["color"] == "blue"
        assert glance(gbed, pod).images[IMAGE]["tags"] == ["t1"]
    gone = await gbed.http.delete(f"{V2}/images/{IMAGE}", headers=MEMBER)
    assert gone.status_code == 204
    assert all(IMAGE not in glance(gbed, pod).images for pod in ("Pod1", "Pod2"))
    missing = await gbed.http.get(f"{V2}/images/{IMAGE}", headers=MEMBER)
    assert missing.status_code == 404
    assert missing.json()["code"] == "404 Not Found"


async def _server(bed: Bed, image: str, az: str) -> httpx.Response:
    body = {"server": {"name": "vm", "flavorRef": "1", "imageRef": image, "networks": "none", "availability_zone": az}}
    return await bed.http.post("/compute/v2.1/servers", json=body, headers=MEMBER)


async def test_a_server_in_a_pod_without_its_image_gets_a_copy_first(gbed: Bed) -> None:
    data = b"disk" * 100_000
    source = glance(gbed, "Pod1").add(IMAGE, data, visibility="public", owner="admin-project", color="red")
    made = await _server(gbed, IMAGE, "az2")
    assert made.status_code == 202, made.text
    copy = glance(gbed, "Pod2").images[IMAGE]
    assert copy["status"] == "active"
    assert glance(gbed, "Pod2").data[IMAGE] == data
    for field in ("checksum", "os_hash_value", "owner", "visibility", "color"):
        assert copy[field] == source[field]
    assert ("9d4e1c2a-3b5f-4a6e-8c7d-0e1f2a3b4c5d", "Pod2") in await image_routings(gbed)
    assert gbed.pods["Pod2"].bodies[-1]["server"]["imageRef"] == IMAGE
    again = await _server(gbed, IMAGE, "az2")
    assert again.status_code == 202
    assert glance(gbed, "Pod2").created == [IMAGE]  # copied once


async def test_concurrent_creates_needing_one_copy_make_one(gbed: Bed) -> None:
    glance(gbed, "Pod1").add(IMAGE, b"disk" * 50_000)
    made = await asyncio.gather(*(_server(gbed, IMAGE, "az2") for _ in range(4)))
    assert [m.status_code for m in made] == [202] * 4
    assert glance(gbed, "Pod2").created == [IMAGE]
    assert len(glance(gbed, "Pod2").uploads) == 1


async def test_a_volume_from_an_image_elsewhere_gets_a_copy_first(gclouds: Bed) -> None:
    glance(gclouds, "Pod2").add(IMAGE, b"vol-image")
    body = {"volume": {"size": 1, "imageRef": IMAGE, "availability_zone": "az1"}}
    made = await gclouds.http.post("/volume/v3/volumes", json=body, headers=MEMBER)
    assert made.status_code == 202, made.text
    assert glance(gclouds, "Pod1").data[IMAGE] == b"vol-image"
    nowhere = {"volume": {"size": 1, "imageRef": OTHER}}
    refused = await gclouds.http.post("/volume/v3/volumes", json=nowhere, headers=MEMBER)
    assert refused.status_code == 400


async def test_an_image_the_caller_cannot_see_is_not_copied(gbed: Bed) -> None:
    made = await _server(gbed, OTHER, "az2")
    assert glance(gbed, "Pod2").created == []
    assert made.status_code == 202  # nobody has it: Nova answers for itself (the fake accepts anything)


async def test_copy_image_import_enqueues_a_copy_per_pod(gbed: Bed) -> None:
    glance(gbed, "Pod1").add(IMAGE, b"disk")
    body: dict[str, Any] = {"method": {"name": "copy-image"}, "all_stores": True}
    refused = await gbed.http.post(f"{V2}/images/{IMAGE}/import", json=body, headers=MEMBER)
    assert refused.status_code == 403
    asked = await gbed.http.post(f"{V2}/images/{IMAGE}/import", json=body, headers=ADMIN)
    assert asked.status_code == 202, asked.text
    async with gbed.sessions() as session:
        jobs = (await session.scalars(sa.select(Job).where(Job.type == "sync_image"))).all()
    assert [(j.resource["source"], j.resource["target"], j.resource["resource"]) for j in jobs] == [
        ("Pod1", "Pod2", IMAGE)
    ]
    unknown = await gbed.http.post(
        f"{V2}/images/{IMAGE}/import", json={"method": {"name": "copy-image"}, "stores": ["Pod9"]}, headers=ADMIN
    )
    assert unknown.status_code == 400
    assert "Pod9" in unknown.json()["message"]


async def test_a_plain_id_marker_goes_on_after_the_copy_the_list_shows(gbed: Bed) -> None:
    # Each pod's copy has its own created_at; the list shows the first pod's. The image was made in
    # Pod2 (its routing) and copied to Pod1 earlier than its own Pod2 copy sorts: still no repeat.
    older, newer = OTHER, IMAGE
    glance(gbed, "Pod1").add(older, b"o")
    glance(gbed, "Pod2").add(older, b"o")
    glance(gbed, "Pod1").add(newer, b"n")
    glance(gbed, "Pod2").add(newer, b"n")
    await gbed.parts.gateway.routings.adopt(newer, newer, gbed.ids["Pod2"], ProjectId("project-a"), ResourceType.IMAGE)
    listed = (await gbed.http.get(f"{V2}/images", headers=MEMBER)).json()["images"]
    assert [i["id"] for i in listed] == [newer, older]
    after = (await gbed.http.get(f"{V2}/images?marker={newer}", headers=MEMBER)).json()["images"]
    assert [i["id"] for i in after] == [older]


async def test_the_stores_are_the_pods(gbed: Bed) -> None:
    listed = await gbed.http.get(f"{V2}/info/stores", headers=MEMBER)
    assert listed.status_code == 200
    assert [(s["id"], s.get("default", False)) for s in listed.json()["stores"]] == [("Pod1", True), ("Pod2", False)]


async def test_a_copy_in_a_down_pod_gets_a_change_or_delete_by_a_job(gbed: Bed) -> None:
    for pod in ("Pod1", "Pod2"):
        glance(gbed, pod).add(IMAGE, b"same")
        await gbed.parts.gateway.routings.adopt(IMAGE, IMAGE, gbed.ids[pod], ProjectId("project-a"), ResourceType.IMAGE)
    await gbed.set_status("Pod2", PodStatus.DOWN)
    patch = {"Content-Type": "application/openstack-images-v2.1-json-patch", **MEMBER}
    ops = b'[{"op": "add", "path": "/color", "value": "blue"}]'
    patched = await gbed.http.patch(f"{V2}/images/{IMAGE}", content=ops, headers=patch)
    assert patched.status_code == 200
    gone = await gbed.http.delete(f"{V2}/images/{IMAGE}", headers=MEMBER)
    assert gone.status_code == 204
    assert IMAGE not in glance(gbed, "Pod1").images
    async with gbed.sessions() as session:
        jobs = (await session.scalars(sa.select(Job).order_by(Job.created_at))).all()
    assert sorted((j.type, j.resource["target"], j.project_id) for j in jobs) == [
        ("sync_image", "Pod2", "project-a"),
        ("sync_remove_image", "Pod2", "project-a"),
    ]  # one ordering key: the worker runs them in the order they were written
    assert await image_routings(gbed) == []


async def test_metadata_definitions_are_written_to_every_pod_and_read_from_one(gbed: Bed) -> None:
    made = await gbed.http.post("/image/v2/metadefs/namespaces", json={"namespace": "OS::Atoll"}, headers=ADMIN)
    assert made.status_code == 201
    assert [list(glance(gbed, pod).namespaces) for pod in ("Pod1", "Pod2")] == [["OS::Atoll"], ["OS::Atoll"]]
    listed = await gbed.http.get("/image/v2/metadefs/namespaces", headers=MEMBER)
    assert listed.json() == {"namespaces": [{"namespace": "OS::Atoll"}]}


async def test_metadata_definitions_a_pod_missed_reach_it_by_jobs(gbed: Bed) -> None:
    await gbed.set_status("Pod2", PodStatus.DOWN)
    made = await gbed.http.post("/image/v2/metadefs/namespaces", json={"namespace": "OS::Atoll"}, headers=ADMIN)
    assert made.status_code == 201
    path = "/image/v2/metadefs/namespaces/OS::Atoll"
    added = await gbed.http.post(path + "/objects", json={"name": "o"}, headers=ADMIN)
    assert added.status_code == 201
    gone = await gbed.http.delete(path, headers=ADMIN)
    assert gone.status_code == 204
    assert [list(glance(gbed, pod).namespaces) for pod in ("Pod1", "Pod2")] == [[], []]
    async with gbed.sessions() as session:
        jobs = (await session.scalars(sa.select(Job).order_by(Job.created_at))).all()
    assert [(j.type, j.resource["resource"], j.resource["source"], j.resource["target"]) for j in jobs] == [
        ("sync_metadef_namespace", "OS::Atoll", "Pod1", "Pod2"),
        ("sync_metadef_namespace", "OS::Atoll", "Pod1", "Pod2"),
        ("sync_remove_metadef_namespace", "OS::Atoll", "Pod1", "Pod2"),
    ]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("POST", "/metadefs/namespaces", b'{"namespace": "N"}', (["N"], [])),
        ("POST", "/metadefs/namespaces", b"not json", ([], [])),
        ("PUT", "/metadefs/namespaces/N", b'{"namespace": "N", "description": "d"}', (["N"], [])),
        ("PUT", "/metadefs/namespaces/N", b'{"namespace": "M"}', (["M"], ["N"])),  # a rename
        ("DELETE", "/metadefs/namespaces/N", b"", ([], ["N"])),
        ("DELETE", "/metadefs/namespaces/N/objects", b"", (["N"], [])),  # its objects, not it
        ("POST", "/metadefs/namespaces/OS%3A%3AX/properties", b"{}", (["OS::X"], [])),
        ("PUT", "/metadefs/namespaces/N/tags/t", b"", (["N"], [])),
        ("POST", "/metadefs/resource_types", b"{}", ([], [])),
    ],
)
def test_which_namespaces_a_catalog_write_touches(
    method: str, path: str, body: bytes, expected: tuple[list[str], list[str]]
) -> None:
    assert metadefs.touched(method, path, body) == expected


async def test_tasks_run_in_one_pod_and_are_found_there(gbed: Bed) -> None:
    body = {"type": "import", "input": {"import_from": "http://example.test/x.img"}}
    made = await gbed.http.post("/image/v2/tasks", json=body, headers=ADMIN)
    assert made.status_code == 201
    task_id = made.json()["id"]
    assert [list(glance(gbed, pod).tasks) for pod in ("Pod1", "Pod2")] == [[task_id], []]
    glance(gbed, "Pod2").tasks["other"] = {"id": "other", "status": "success"}
    shown = await gbed.http.get("/image/v2/tasks/other", headers=ADMIN)
    assert shown.json()["status"] == "success"
    listed = await gbed.http.get("/image/v2/tasks", headers=ADMIN)
    assert sorted(t["id"] for t in listed.json()["tasks"]) == sorted([task_id, "other"])
    missing = await gbed.http.get("/image/v2/tasks/nope", headers=ADMIN)
    assert missing.status_code == 404
    glance(gbed, "Pod2").add(IMAGE, b"x")
    glance(gbed, "Pod2").tasks["imported"] = {"id": "imported", "status": "success", "image_id": IMAGE}
    of_image = await gbed.http.get(f"/image/v2/images/{IMAGE}/tasks", headers=ADMIN)
    assert [t["id"] for t in of_image.json()["tasks"]] == ["imported"]


async def test_tasks_are_paged_over_the_pods_with_glances_links(gbed: Bed) -> None:
    chain = []
    for pod, count in (("Pod1", 3), ("Pod2", 2)):
        for i in range(count):
            task_id = f"{pod}-task-{i}"
            glance(gbed, pod).tasks[task_id] = {"id": task_id, "status": "success"}
            chain.append(task_id)
    for limit in (1, 2, 3, 6):
        pages: list[list[str]] = []
        url: str | None = f"/image/v2/tasks?limit={limit}"
        while url is not None:
            document = (await gbed.http.get(url, headers=ADMIN)).json()
            assert (document["schema"], document["first"]) == ("/v2/schemas/tasks", "/v2/tasks")
            pages.append([t["id"] for t in document["tasks"]])
            url = "/image" + document["next"] if "next" in document else None  # relative to the endpoint
            assert len(pages) < 10
        assert [t for page in pages for t in page] == chain, limit
        assert all(len(page) == limit for page in pages[:-1])
    after = await gbed.http.get("/image/v2/tasks?marker=Pod1-task-2", headers=ADMIN)
    assert [t["id"] for t in after.json()["tasks"]] == ["Pod2-task-0", "Pod2-task-1"]


async def test_novas_image_api_shows_each_image_once_and_writes_every_copy(gbed: Bed) -> None:
    compute = "/compute/v2.1"
    third = "5a5a5a5a-0000-4000-8000-000000000003"
    for pod in ("Pod1", "Pod2"):
        glance(gbed, pod).add(IMAGE, b"same", name="shared")
    glance(gbed, "Pod1").add(OTHER, b"one", name="only-1")
    glance(gbed, "Pod2").add(third, b"two", name="only-2")
    detail = await gbed.http.get(f"{compute}/images/detail", headers=MEMBER)
    assert detail.status_code == 200
    ids = [i["id"] for i in detail.json()["images"]]
    assert sorted(ids) == sorted([IMAGE, OTHER, third])
    seen: list[str] = []
    url: str | None = f"{compute}/images?limit=1"
    while url is not None:
        page = (await gbed.http.get(url, headers=MEMBER)).json()
        assert all(set(i) == {"id", "name", "links"} for i in page["images"])
        seen += [i["id"] for i in page["images"]]
        links = page.get("images_links")
        url = links[0]["href"] if links else None
        assert url is None or url.startswith("http://atoll.test/compute/v2.1/images?")
    assert seen == ids
    after = await gbed.http.get(f"{compute}/images?marker={ids[0]}", headers=MEMBER)
    assert [i["id"] for i in after.json()["images"]] == ids[1:]
    shown = await gbed.http.get(f"{compute}/images/{IMAGE}", headers=MEMBER)
    assert shown.json()["image"]["name"] == "shared"
    metadata = {"metadata": {"x_purpose": "test"}}
    written = await gbed.http.put(f"{compute}/images/{IMAGE}/metadata", json=metadata, headers=MEMBER)
    assert written.status_code == 200
    assert all(glance(gbed, pod).images[IMAGE]["x_purpose"] == "test" for pod in ("Pod1", "Pod2"))
    deleted = await gbed.http.delete(f"{compute}/images/{IMAGE}", headers=MEMBER)
    assert deleted.status_code == 204
    assert all(IMAGE not in glance(gbed, pod).images for pod in ("Pod1", "Pod2"))
    gone = await gbed.http.get(f"{compute}/images/{IMAGE}", headers=MEMBER)
    assert gone.status_code == 404
    assert gone.json()["itemNotFound"]["message"] == "Image not found."
