"""The sync handlers against fake pods on loopback: what differs, force, resuming, streaming, checksums."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from aiohttp import web

from atoll.jobs.outcomes import Done, Fail, PermanentError, TemporaryError
from atoll.pods.info import PodInfo
from atoll.pods.pool import PodClients
from atoll.pods.registry import PodSnapshot
from atoll.sync import flavor, image, imagedata
from atoll.sync import keypair as keypair_sync
from atoll.sync.calls import PodCalls
from atoll.sync.shared import SharedReads
from atoll.sync.task import SyncTask
from atoll.types import PodId, PodStatus, RegionName
from tests.unit.pods.fakepod import FakePod, serve

FLAVOR = {
    "id": "f-1",
    "name": "small",
    "ram": 512,
    "vcpus": 1,
    "disk": 1,
    "swap": "",
    "OS-FLV-EXT-DATA:ephemeral": 0,
    "rxtx_factor": 1.0,
    "os-flavor-access:is_public": True,
    "description": None,
}


class Nova:
    """Flavors of one fake pod, as Nova answers them."""

    def __init__(
        self, pod: FakePod, flavors: Mapping[str, dict[str, Any]], specs: Mapping[str, dict[str, str]]
    ) -> None:
        self.flavors = {k: dict(v) for k, v in flavors.items()}
        self.specs = {k: dict(v) for k, v in specs.items()}
        pod.route("GET", "/compute/v2.1/flavors/detail", self.detail)
        pod.route("GET", "/compute/v2.1/flavors/{fid}", self.show)
        pod.route("DELETE", "/compute/v2.1/flavors/{fid}", self.delete)
        pod.route("POST", "/compute/v2.1/flavors", self.create)
        pod.route("GET", "/compute/v2.1/flavors/{fid}/os-extra_specs", self.get_specs)
        pod.route("POST", "/compute/v2.1/flavors/{fid}/os-extra_specs", self.set_specs)

    async def detail(self, _r: web.Request) -> web.StreamResponse:
        return web.json_response({"flavors": list(self.flavors.values())})

    async def show(self, r: web.Request) -> web.StreamResponse:
        found = self.flavors.get(r.match_info["fid"])
        return web.json_response({"flavor": found} if found else {"itemNotFound": {}}, status=200 if found else 404)

    async def delete(self, r: web.Request) -> web.StreamResponse:
        self.flavors.pop(r.match_info["fid"], None)
        self.specs.pop(r.match_info["fid"], None)
        return web.Response(status=202)

    async def create(self, r: web.Request) -> web.StreamResponse:
        body = (await r.json())["flavor"]
        self.flavors[body["id"]] = body
        self.specs[body["id"]] = {}
        return web.json_response({"flavor": body})

    async def get_specs(self, r: web.Request) -> web.StreamResponse:
        return web.json_response({"extra_specs": self.specs.get(r.match_info["fid"], {})})

    async def set_specs(self, r: web.Request) -> web.StreamResponse:
        self.specs[r.match_info["fid"]].update((await r.json())["extra_specs"])
        return web.json_response({"extra_specs": self.specs[r.match_info["fid"]]})


def pod_info(name: str, url: str, status: PodStatus = PodStatus.UP) -> PodInfo:
    endpoints = {"compute": url + "/compute/v2.1", "image": url + "/image"}
    return PodInfo(PodId(name.lower()), RegionName(name), "az1", "", False, endpoints, status)


class Pods:
    def __init__(self, *pods: PodInfo) -> None:
        self.pods = pods

    async def snapshot(self) -> PodSnapshot:
        return PodSnapshot(self.pods)


async def token(renew: bool = False) -> str:
    return "service-token"


@pytest.fixture
async def clients() -> AsyncIterator[PodClients]:
    pool = PodClients()
    yield pool
    await pool.close()


def task(resource_type: str, resource: str, *, force: bool = False, progress: dict[str, Any] | None = None) -> SyncTask:
    saved: list[dict[str, Any]] = []

    async def checkpoint(progress: Mapping[str, Any]) -> None:
        saved.append(dict(progress))

    return SyncTask(resource_type, resource, "Pod1", "Pod2", force, "project-a", "user-a", progress or {}, checkpoint)


@pytest.fixture
async def nova_pods(clients: PodClients) -> AsyncIterator[tuple[Nova, Nova, FakePod, PodCalls]]:
    one, two = FakePod(), FakePod()
    source = Nova(one, {"f-1": FLAVOR}, {"f-1": {"hw:cpu_policy": "shared"}})
    target = Nova(two, {"f-1": {**FLAVOR, "ram": 1024}}, {"f-1": {"hw:cpu_policy": "shared"}})
    async with serve(one), serve(two):
        calls = PodCalls(Pods(pod_info("Pod1", one.url), pod_info("Pod2", two.url)), clients, token)
        yield source, target, two, calls


async def test_a_flavor_that_differs_fails_saying_what_and_is_left_alone_without_force(
    nova_pods: tuple[Nova, Nova, FakePod, PodCalls],
) -> None:
    _, target, pod2, calls = nova_pods
    outcome = await flavor.sync(calls, task("flavor", "f-1"))
    assert isinstance(outcome, Fail)
    assert "ram: 1024 != 512" in outcome.reason
    assert "force" in outcome.reason
    assert target.flavors["f-1"]["ram"] == 1024
    assert [s["method"] for s in pod2.seen] == ["GET"]
    assert all(s["headers"]["X-Auth-Token"] == "service-token" for s in pod2.seen)


async def test_force_replaces_a_differing_flavor_under_the_same_id_then_nothing_is_left_to_do(
    nova_pods: tuple[Nova, Nova, FakePod, PodCalls],
) -> None:
    source, target, pod2, calls = nova_pods
    assert isinstance(await flavor.sync(calls, task("flavor", "small", force=True)), Done)
    assert target.flavors["f-1"]["ram"] == 512
    assert target.specs["f-1"] == source.specs["f-1"]
    writes = len([s for s in pod2.seen if s["method"] != "GET"])
    assert isinstance(await flavor.sync(calls, task("flavor", "f-1")), Done)
    assert len([s for s in pod2.seen if s["method"] != "GET"]) == writes


async def test_a_flavor_this_job_created_is_converged_on_a_retry_without_force(
    nova_pods: tuple[Nova, Nova, FakePod, PodCalls],
) -> None:
    source, target, _, calls = nova_pods
    target.flavors["f-1"] = dict(FLAVOR)
    target.specs["f-1"] = {}  # the attempt that made it died before setting its extra specs
    assert isinstance(await flavor.sync(calls, task("flavor", "f-1")), Fail)
    assert isinstance(await flavor.sync(calls, task("flavor", "f-1", progress={"created": True})), Done)
    assert target.specs["f-1"] == source.specs["f-1"]


async def test_an_unknown_region_is_permanent_and_a_down_pod_temporary(clients: PodClients) -> None:
    calls = PodCalls(Pods(pod_info("Pod1", "http://127.0.0.1:9", PodStatus.DOWN)), clients, token)
    with pytest.raises(TemporaryError, match="Pod1 is down"):
        await flavor.sync(calls, task("flavor", "f-1"))
    with pytest.raises(PermanentError, match="Pod2 is not a pod"):
        await calls.call("Pod2", "compute", "GET", "/flavors")


DATA = bytes(range(256)) * 4096 * 3  # 3 MiB


def glance_image(data: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "id": "i-1",
        "name": "cirros",
        "status": "active",
        "owner": "project-a",
        "visibility": "private",
        "disk_format": "raw",
        "container_format": "bare",
        "size": len(data),
        "checksum": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "os_hash_algo": "sha512",
        "os_hash_value": hashlib.sha512(data).hexdigest(),
        "tags": [],
        "min_disk": 0,
        "min_ram": 0,
        "protected": False,
        "self": "/v2/images/i-1",
        **extra,
    }


class Glance:
    def __init__(self, pod: FakePod, images: Mapping[str, dict[str, Any]], data: Mapping[str, bytes]) -> None:
        self.images = {k: dict(v) for k, v in images.items()}
        self.data = dict(data)
        self.chunks: list[int] = []
        self.upload_headers: Mapping[str, str] = {}
        pod.route("GET", "/image/v2/images/{iid}", self.show)
        pod.route("POST", "/image/v2/images", self.create)
        pod.route("GET", "/image/v2/images/{iid}/file", self.download)
        pod.route("PUT", "/image/v2/images/{iid}/file", self.upload)
        pod.route("DELETE", "/image/v2/images/{iid}", self.delete)
        pod.route("PATCH", "/image/v2/images/{iid}", self.patch)
        pod.route("GET", "/image/v2/images/{iid}/members", self.list_members)
        pod.route("POST", "/image/v2/images/{iid}/members", self.add_member)
        pod.route("PUT", "/image/v2/images/{iid}/members/{mid}", self.set_member)
        pod.route("DELETE", "/image/v2/images/{iid}/members/{mid}", self.remove_member)
        self.patch_types: list[str] = []
        self.members: dict[str, dict[str, str]] = {}

    def _shared(self, r: web.Request) -> dict[str, str] | None:
        image = self.images.get(r.match_info["iid"])
        if image is None or image.get("visibility") != "shared":
            return None
        return self.members.setdefault(r.match_info["iid"], {})

    async def list_members(self, r: web.Request) -> web.StreamResponse:
        found = self._shared(r)
        if found is None:
            return web.Response(status=403, text="Only shared images have members.")
        return web.json_response({"members": [{"member_id": m, "status": s} for m, s in found.items()]})

    async def add_member(self, r: web.Request) -> web.StreamResponse:
        found = self._shared(r)
        member = (await r.json())["member"]
        if found is None:
            return web.Response(status=403)
        if member in found:
            return web.Response(status=409)
        found[member] = "pending"
        return web.json_response({"member_id": member, "status": "pending"})

    async def set_member(self, r: web.Request) -> web.StreamResponse:
        found = self._shared(r)
        if found is None or r.match_info["mid"] not in found:
            return web.Response(status=404)
        found[r.match_info["mid"]] = (await r.json())["status"]
        return web.json_response({"member_id": r.match_info["mid"], "status": found[r.match_info["mid"]]})

    async def remove_member(self, r: web.Request) -> web.StreamResponse:
        found = self._shared(r)
        if found is None or found.pop(r.match_info["mid"], None) is None:
            return web.Response(status=404)
        return web.Response(status=204)

    async def patch(self, r: web.Request) -> web.StreamResponse:
        self.patch_types.append(r.content_type)
        found = self.images[r.match_info["iid"]]
        for op in await r.json():
            key = op["path"][1:].replace("~1", "/").replace("~0", "~")
            if op["op"] == "remove":
                del found[key]
            else:
                found[key] = op["value"]
        return web.json_response(found)

    async def delete(self, r: web.Request) -> web.StreamResponse:
        self.images.pop(r.match_info["iid"])
        return web.Response(status=204)

    async def show(self, r: web.Request) -> web.StreamResponse:
        found = self.images.get(r.match_info["iid"])
        return web.json_response(found, status=200) if found else web.Response(status=404)

    async def create(self, r: web.Request) -> web.StreamResponse:
        body = await r.json()
        self.images[body["id"]] = {**body, "status": "queued", "size": None, "checksum": None}
        return web.json_response(self.images[body["id"]], status=201)

    async def download(self, r: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(r)
        data = self.data[r.match_info["iid"]]
        for start in range(0, len(data), 100_000):
            await response.write(data[start : start + 100_000])
        await response.write_eof()
        return response

    async def upload(self, r: web.Request) -> web.StreamResponse:
        self.upload_headers = r.headers
        received = bytearray()
        async for chunk in r.content.iter_any():
            self.chunks.append(len(chunk))
            received += chunk
        iid = r.match_info["iid"]
        self.data[iid] = bytes(received)
        self.images[iid].update(
            glance_image(
                bytes(received),
                **{
                    k: v
                    for k, v in self.images[iid].items()
                    if k not in ("size", "checksum", "status", "os_hash_value")
                },
            )
        )
        self.images[iid]["status"] = "active"
        return web.Response(status=204)


@pytest.fixture
async def glance_pods(clients: PodClients) -> AsyncIterator[tuple[Glance, Glance, PodCalls]]:
    one, two = FakePod(), FakePod()
    source = Glance(one, {"i-1": glance_image(DATA, atoll_probe="yes")}, {"i-1": DATA})
    target = Glance(two, {}, {})
    async with serve(one), serve(two):
        yield source, target, PodCalls(Pods(pod_info("Pod1", one.url), pod_info("Pod2", two.url)), clients, token)


async def test_an_image_is_created_with_its_id_and_properties_and_its_data_piped_in_chunks(
    glance_pods: tuple[Glance, Glance, PodCalls],
) -> None:
    _, target, calls = glance_pods
    run = task("image", "i-1")
    assert isinstance(await image.sync(calls, run), Done)
    assert target.data["i-1"] == DATA
    assert target.images["i-1"]["atoll_probe"] == "yes"
    assert target.images["i-1"]["owner"] == "project-a"
    assert run.progress == {"created": True}
    assert target.upload_headers["Content-Length"] == str(len(DATA))
    assert len(target.chunks) > 1
    assert max(target.chunks) < len(DATA)


async def test_image_data_that_is_not_the_source_s_checksum_fails_and_the_copy_is_removed(
    glance_pods: tuple[Glance, Glance, PodCalls],
) -> None:
    source, target, calls = glance_pods
    source.data["i-1"] = DATA[:-1] + b"\x00"
    with pytest.raises(PermanentError, match="does not match its checksum"):
        await image.sync(calls, task("image", "i-1"))
    assert target.images == {}


async def test_an_image_whose_data_differs_in_the_target_fails_even_with_force(
    glance_pods: tuple[Glance, Glance, PodCalls],
) -> None:
    _, target, calls = glance_pods
    other = DATA[::-1]
    target.images["i-1"] = glance_image(other, atoll_probe="yes")
    outcome = await image.sync(calls, task("image", "i-1", force=True))
    assert isinstance(outcome, Fail)
    assert "other data" in outcome.reason
    assert "checksum" in outcome.reason


async def test_another_project_s_image_is_not_synced(glance_pods: tuple[Glance, Glance, PodCalls]) -> None:
    source, target, calls = glance_pods
    source.images["i-1"]["owner"] = "project-b"
    outcome = await image.sync(calls, task("image", "i-1"))
    assert isinstance(outcome, Fail)
    assert "does not exist" in outcome.reason
    assert target.images == {}


async def test_a_name_never_reaches_another_path_of_the_pod(clients: PodClients) -> None:
    one = FakePod()
    asked: list[str] = []

    async def keypair(r: web.Request) -> web.StreamResponse:
        asked.append(r.match_info["name"])
        return web.Response(status=404)

    one.route("GET", "/compute/v2.1/os-keypairs/{name}", keypair)
    async with serve(one):
        calls = PodCalls(Pods(pod_info("Pod1", one.url), pod_info("Pod2", one.url)), clients, token)
        outcome = await keypair_sync.sync(calls, task("keypair", "../flavors?x=1"))
        assert isinstance(outcome, Fail)
        assert asked == ["../flavors?x=1"]
        assert [s["path"] for s in one.seen] == ["/compute/v2.1/os-keypairs/../flavors?x=1"]
        with pytest.raises(PermanentError, match="not a usable name"):
            await keypair_sync.sync(calls, task("keypair", ".."))


async def test_image_properties_that_differ_fail_without_force_and_are_patched_with_it(
    glance_pods: tuple[Glance, Glance, PodCalls],
) -> None:
    _, target, calls = glance_pods
    target.images["i-1"] = glance_image(DATA, atoll_probe="no", stale="x", **{"a/b": "1"})
    outcome = await image.sync(calls, task("image", "i-1"))
    assert isinstance(outcome, Fail)
    assert "atoll_probe: 'no' != 'yes'" in outcome.reason
    assert "stale: 'x' != None" in outcome.reason
    assert target.patch_types == []
    assert isinstance(await image.sync(calls, task("image", "i-1", force=True)), Done)
    assert target.patch_types == ["application/openstack-images-v2.1-json-patch"]
    assert target.images["i-1"]["atoll_probe"] == "yes"
    assert "stale" not in target.images["i-1"]
    assert "a/b" not in target.images["i-1"]
    assert isinstance(await image.sync(calls, task("image", "i-1")), Done)


async def test_the_copies_of_one_request_read_the_source_once_and_a_new_flavor_is_not_read_back(
    clients: PodClients,
) -> None:
    one, targets = FakePod(), [FakePod() for _ in range(3)]
    source = Nova(one, {"f-1": FLAVOR}, {"f-1": {"hw:cpu_policy": "shared"}})
    novas = [Nova(pod, {}, {}) for pod in targets]
    reads = SharedReads()
    names = [f"Pod{i}" for i in range(2, 5)]
    async with serve(one), serve(targets[0]), serve(targets[1]), serve(targets[2]):
        infos = [pod_info("Pod1", one.url), *(pod_info(n, p.url) for n, p in zip(names, targets, strict=True))]
        calls = PodCalls(Pods(*infos), clients, token)

        def copy(target: str, attempt: int = 1) -> SyncTask:
            return dataclasses.replace(
                task("flavor", "f-1"), target=target, request="parent-1", attempt=attempt, reads=reads
            )

        outcomes = await asyncio.gather(*(flavor.sync(calls, copy(name)) for name in names))
        assert all(isinstance(o, Done) for o in outcomes)
        assert [(s["method"], s["path"]) for s in one.seen] == [
            ("GET", "/compute/v2.1/flavors/f-1"),
            ("GET", "/compute/v2.1/flavors/f-1/os-extra_specs"),
        ]
        for nova, pod in zip(novas, targets, strict=True):
            assert nova.flavors["f-1"]["ram"] == 512
            assert nova.specs["f-1"] == source.specs["f-1"]
            assert [s["method"] for s in pod.seen] == ["GET", "POST", "POST"]  # absent, made, extra specs set
        source.specs["f-1"]["hw:cpu_policy"] = "dedicated"
        assert isinstance(await flavor.sync(calls, copy("Pod2", attempt=2)), Fail)  # a retry reads afresh
        assert len(one.seen) == 4


async def test_shared_reads_are_single_flight_keep_no_failure_and_expire() -> None:
    now = [0.0]
    reads = SharedReads(ttl=10, size=2, clock=lambda: now[0])
    calls: list[str] = []

    async def read(value: str) -> str:
        calls.append(value)
        await asyncio.sleep(0)
        return value

    assert await asyncio.gather(*(reads.get("k", lambda: read("a")) for _ in range(5))) == ["a"] * 5
    assert calls == ["a"]

    async def broken() -> str:
        calls.append("boom")
        raise TemporaryError("source down")

    with pytest.raises(TemporaryError):
        await reads.get("x", broken)
    assert await reads.get("x", lambda: read("b")) == "b"  # the failure was not kept
    now[0] = 11
    assert await reads.get("k", lambda: read("c")) == "c"  # expired
    await reads.get("y", lambda: read("d"))
    assert len(reads) == 2  # the oldest dropped
    assert calls == ["a", "boom", "b", "c", "d"]


async def test_a_shared_image_s_members_and_their_status_are_copied_with_it(
    glance_pods: tuple[Glance, Glance, PodCalls],
) -> None:
    source, target, calls = glance_pods
    source.images["i-1"]["visibility"] = "shared"
    source.members["i-1"] = {"project-b": "accepted", "project-c": "pending"}
    assert isinstance(await image.sync(calls, task("image", "i-1")), Done)
    assert target.members["i-1"] == {"project-b": "accepted", "project-c": "pending"}
    target.members["i-1"] = {"project-b": "rejected", "project-d": "accepted"}  # changed in the pod directly
    outcome = await image.sync(calls, task("image", "i-1"))
    assert isinstance(outcome, Fail)
    assert "member project-b: 'rejected' != 'accepted'" in outcome.reason
    assert "member project-d: 'accepted' != None" in outcome.reason
    assert isinstance(await image.sync(calls, task("image", "i-1", force=True)), Done)
    assert target.members["i-1"] == {"project-b": "accepted", "project-c": "pending"}


async def test_the_copy_before_a_create_carries_a_shared_image_s_members(
    glance_pods: tuple[Glance, Glance, PodCalls],
) -> None:
    source, target, calls = glance_pods
    source.images["i-1"]["visibility"] = "shared"
    source.members["i-1"] = {"project-b": "accepted"}
    copy = await imagedata.ensure_copy(calls, "Pod1", "Pod2", source.images["i-1"])
    assert copy["status"] == "active"
    assert target.members["i-1"] == {"project-b": "accepted"}
