"""Atoll's marker: round trips, compactness, and a clean 400 for anything that is not one of ours."""

from __future__ import annotations

import base64
import contextlib
import uuid
import zlib
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atoll.listing.declared import SERVERS
from atoll.listing.errors import InvalidMarker
from atoll.listing.marker import EXHAUSTED, MAX_TEXT, Marker, Position, decode, is_atoll_marker
from atoll.listing.ordering import SQLITE
from atoll.listing.spec import SortSpec, normalize

SPEC = normalize(SERVERS, [("display_name", True), ("created_at", False)], SQLITE)  # name, created, uuid
OTHER = normalize(SERVERS, [("display_name", False)], SQLITE)

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.floats(allow_nan=False), st.text(max_size=20)
)
VALUES = st.tuples(SCALARS, SCALARS, SCALARS)
IDS = st.one_of(st.uuids().map(str), st.text(min_size=1, max_size=40))


@st.composite
def positions(draw: st.DrawFn, has_high: bool) -> Position:
    kind = draw(st.sampled_from(["exhausted", "in step", "lagging", "seeking"]))
    if kind == "exhausted":
        return EXHAUSTED
    if kind == "in step" and has_high:
        return Position(after=draw(IDS))
    if kind == "seeking":
        bound = draw(st.none() if has_high else VALUES) if draw(st.booleans()) else draw(VALUES)
        return Position(after=draw(IDS), bound=bound, lagging=bound is not None, seeking=True)
    bound = draw(VALUES)
    return Position(after=draw(st.none() | IDS), bound=bound, lagging=True)


@st.composite
def markers(draw: st.DrawFn) -> Marker:
    high = draw(st.none() | VALUES)
    pods = draw(st.dictionaries(st.text(min_size=1, max_size=12), positions(high is not None), max_size=8))
    return Marker(SPEC.fingerprint(), high, pods)


@settings(max_examples=300)
@given(markers())
def test_a_marker_decodes_to_what_was_encoded(marker: Marker) -> None:
    text = marker.encode()
    assert is_atoll_marker(text)
    assert text.startswith("atoll1.")
    assert set(text[len("atoll1.") :]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode(text, SPEC) == marker


def test_uuids_are_kept_as_given_and_other_ids_too() -> None:
    upper = str(uuid.uuid4()).upper()  # not canonical: must come back as sent, not lowercased
    marker = Marker(SPEC.fingerprint(), ("a", None, "x"), {"Pod1": Position(after=upper), "Pod2": Position(after="1")})
    assert decode(marker.encode(), SPEC).pods == {"Pod1": Position(after=upper), "Pod2": Position(after="1")}


def test_an_integer_too_large_for_msgpack_is_kept_as_a_float() -> None:
    marker = Marker(SPEC.fingerprint(), (2**70, None, "x"), {})
    assert decode(marker.encode(), SPEC).high == (float(2**70), None, "x")


def test_a_marker_for_100_pods_that_all_moved_stays_small() -> None:
    high = ("web-server-042", "2026-03-01T10:00:00Z", str(uuid.uuid4()))
    pods = {f"RegionOne-pod-{n:03d}": Position(after=str(uuid.uuid4())) for n in range(100)}
    every = Marker(SPEC.fingerprint(), high, pods).encode()
    few = Marker(SPEC.fingerprint(), high, dict(list(pods.items())[:10])).encode()
    none = Marker(SPEC.fingerprint(), high, {}).encode()
    # A UUID is 16 bytes packed: 21.3 characters of base64, so 2,134 for 100 of them is the floor;
    # a pod's name and its framing add about 6 after compression (2,847 measured here).
    assert (len(every) - len(none)) / 100 < 30
    assert len(few) < 450
    assert len(every) < 3000


def test_a_marker_of_another_listing_is_refused() -> None:
    text = Marker.start(OTHER).encode()
    with pytest.raises(InvalidMarker, match="made for another list or sort order"):
        decode(text, SPEC)


def test_the_same_sort_walked_backwards_is_another_listing() -> None:
    backwards = SortSpec(SPEC.collection, SPEC.keys, reverse=True, order=SPEC.order)
    with pytest.raises(InvalidMarker, match="another list"):
        decode(Marker.start(SPEC).encode(), backwards)


def test_a_marker_of_another_version_is_refused() -> None:
    text = Marker.start(SPEC).encode().replace("atoll1.", "atoll2.", 1)
    with pytest.raises(InvalidMarker, match="version 2 is not supported"):
        decode(text, SPEC)


def test_plain_ids_are_not_atoll_markers() -> None:
    assert not is_atoll_marker(str(uuid.uuid4()))
    assert not is_atoll_marker("atoll")
    assert not is_atoll_marker("atollx.abc")
    assert is_atoll_marker("atoll1.")
    with pytest.raises(InvalidMarker, match="not one Atoll made"):
        decode("9a1b", SPEC)


def encoded(document: Any, squeeze: bool = False) -> str:
    packed = msgpack.packb(document, use_bin_type=True)
    body = b"\x01" + zlib.compress(packed) if squeeze else b"\x00" + packed
    return "atoll1." + base64.urlsafe_b64encode(body).rstrip(b"=").decode()


FP = SPEC.fingerprint()
MALFORMED = [
    "atoll1.",
    "atoll1.!!!",
    "atoll1.AAAA=",
    "atoll1." + "A" * (MAX_TEXT + 1),
    "atoll1." + base64.urlsafe_b64encode(b"\x02abc").decode(),
    "atoll1." + base64.urlsafe_b64encode(b"\x01not zlib").decode(),
    "atoll1." + base64.urlsafe_b64encode(b"\x01" + zlib.compress(b"\x00" * 10_000_000)).decode().rstrip("="),
    encoded([FP, None, {}, "extra"]),
    encoded({"fingerprint": FP}),
    encoded([FP, None, []]),
    encoded(["abcd", None, {}]),
    encoded([FP, ["a", None], {}]),
    encoded([FP, ["a", None, "x", "y"], {}]),
    encoded([FP, ["a", [1], "x"], {}]),
    encoded([FP, None, {"Pod1": "a"}]),
    encoded([FP, ["a", None, "x"], {"Pod1": 1}]),
    encoded([FP, ["a", None, "x"], {"Pod1": False}]),
    encoded([FP, ["a", None, "x"], {"Pod1": ""}]),
    encoded([FP, ["a", None, "x"], {"Pod1": b"short"}]),
    encoded([FP, ["a", None, "x"], {"Pod1": ["id", None]}]),
    encoded([FP, ["a", None, "x"], {"Pod1": ["id"]}]),
    encoded([FP, ["a", None, "x"], {"Pod1": [None, None, 1]}]),
    encoded([FP, ["a", None, "x"], {"Pod1": ["id", None, 2]}]),
    encoded([FP, ["a", None, "x"], {1: "id"}]),
    encoded([FP, ["a", None, "x"], {"Pod1": "id"}]) + "AAAA",
    encoded([FP, None, {}], squeeze=True)[:-4],
    "atoll1." + base64.urlsafe_b64encode(b"\x00" + msgpack.packb(msgpack.ExtType(1, b"x"))).decode().rstrip("="),
]


@pytest.mark.parametrize("text", MALFORMED)
def test_a_damaged_marker_is_a_400(text: str) -> None:
    with pytest.raises(InvalidMarker, match=r"^Invalid marker"):
        decode(text, SPEC)


def test_a_well_formed_document_does_decode() -> None:
    """The shapes refused above differ from this one only in what is wrong."""
    marker = decode(encoded([FP, ["a", None, "x"], {"Pod1": "id", "Pod2": 0, "Pod3": ["id", ["b", 1, "y"], 1]}]), SPEC)
    assert marker.pods == {
        "Pod1": Position(after="id"),
        "Pod2": EXHAUSTED,
        "Pod3": Position(after="id", bound=("b", 1, "y"), lagging=True, seeking=True),
    }


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_any_text_is_a_marker_or_a_400(text: str) -> None:
    with contextlib.suppress(InvalidMarker):
        decode("atoll1." + text, SPEC)


@settings(max_examples=300)
@given(st.binary(max_size=200), st.booleans())
def test_any_bytes_are_a_marker_or_a_400(raw: bytes, squeeze: bool) -> None:
    body = (b"\x01" + zlib.compress(raw)) if squeeze else (b"\x00" + raw)
    with contextlib.suppress(InvalidMarker):
        decode("atoll1." + base64.urlsafe_b64encode(body).decode().rstrip("="), SPEC)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(max_size=5) | st.binary(max_size=17),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300)
@given(st.lists(JSONISH, min_size=3, max_size=3))
def test_any_document_is_a_marker_or_a_400(document: list[Any]) -> None:
    document[0] = FP
    with contextlib.suppress(InvalidMarker):
        decode(encoded(document), SPEC)
