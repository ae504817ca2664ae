from __future__ import annotations

import pytest

from atoll.pods.versions import entries, version_root


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("http://h:8774/v2.1", "http://h:8774/"),
        ("http://h:8774/v2.1/", "http://h:8774/"),
        ("http://h/compute/v2.1", "http://h/compute/"),
        ("http://h:8776/v3/0123456789abcdef0123456789abcdef", "http://h:8776/"),
        ("http://h/volume/v3/%(project_id)s", "http://h/volume/"),
        ("http://h/volume/v3/$(project_id)s", "http://h/volume/"),
        ("http://h:8776/v3/01234567-89ab-cdef-0123-456789abcdef", "http://h:8776/"),
        ("http://h:9292", "http://h:9292/"),
        ("http://h/image", "http://h/image/"),
        ("http://h/identity/v3", "http://h/identity/"),
        ("https://h:9696/networking/?x=1", "https://h:9696/networking/"),
        ("http://h:8778/placement/v1.0", "http://h:8778/placement/"),
    ],
)
def test_version_root(url: str, root: str) -> None:
    assert version_root(url) == root


def test_entries_of_each_shape() -> None:
    one = {"id": "v1", "status": "CURRENT"}
    assert entries({"versions": [one]}) == [one]
    assert entries({"versions": {"values": [one]}}) == [one]
    assert entries({"version": one}) == [one]
    assert entries({"versions": [one, "junk", {"no": "id"}, {"id": 3}]}) == [one]
    assert entries([one]) == []
    assert entries({"versions": "v1"}) == []
    assert entries({"itemNotFound": {"code": 404}}) == []
