from __future__ import annotations

import pytest

from atoll.pods.microversions import APIVersion, VersionRange, intersect, range_from_document

NOVA_ROOT = {
    "versions": [
        {"id": "v2.0", "status": "DEPRECATED", "version": "", "min_version": "", "links": []},
        {"id": "v2.1", "status": "CURRENT", "version": "2.96", "min_version": "2.1", "links": []},
    ]
}
CINDER_ROOT = {"versions": [{"id": "v3.0", "status": "CURRENT", "version": "3.71", "min_version": "3.0", "links": []}]}


def v(text: str) -> APIVersion:
    return APIVersion.parse(text)


def test_parse_and_order_numerically() -> None:
    assert v("2.10") > v("2.9")
    assert str(v("2.100")) == "2.100"
    for bad in ("latest", "2", "2.x", "", "v2.1"):
        with pytest.raises(ValueError, match="not a microversion"):
            v(bad)


def test_intersection_is_max_of_mins_to_min_of_maxes() -> None:
    ranges = [VersionRange(v("2.1"), v("2.96")), VersionRange(v("2.5"), v("2.100"))]
    assert intersect(ranges) == VersionRange(v("2.5"), v("2.96"))
    assert intersect([]) is None
    assert intersect([VersionRange(v("2.1"), v("2.3")), VersionRange(v("2.4"), v("2.9"))]) is None


def test_ranges_from_real_documents() -> None:
    assert range_from_document(NOVA_ROOT, 2) == VersionRange(v("2.1"), v("2.96"))
    assert range_from_document({"version": NOVA_ROOT["versions"][1]}, 2) == VersionRange(v("2.1"), v("2.96"))
    assert range_from_document(CINDER_ROOT, 3) == VersionRange(v("3.0"), v("3.71"))
    assert range_from_document(CINDER_ROOT, 2) is None
    assert range_from_document({"versions": {"values": CINDER_ROOT["versions"]}}, 3) == VersionRange(
        v("3.0"), v("3.71")
    )
    assert range_from_document({"unexpected": 1}, 2) is None


def test_membership() -> None:
    nova = VersionRange(v("2.1"), v("2.96"))
    assert v("2.37") in nova
    assert v("2.97") not in nova
    assert "2.37" not in nova
