"""orjson where it can, the standard library where orjson refuses: the same documents either way."""

from __future__ import annotations

import json
import math

import pytest

from atoll.core import jsonfast


def test_round_trip_of_an_openstack_document() -> None:
    document = {"server": {"id": "a", "name": "vé", "metadata": {}, "progress": 0, "locked": False, "key": None}}
    assert jsonfast.loads(jsonfast.dumps(document)) == document
    assert json.loads(jsonfast.dumps(document)) == document


def test_what_orjson_refuses_the_standard_library_still_serves() -> None:
    huge = {"bytes": 2**70, 1: "an int key"}
    assert json.loads(jsonfast.dumps(huge)) == {"bytes": 2**70, "1": "an int key"}
    assert jsonfast.loads(b'{"size": 1180591620717411303424}') == {"size": 2**70}
    assert math.isnan(jsonfast.loads(b'{"x": NaN}')["x"])


def test_not_json_is_a_value_error() -> None:
    with pytest.raises(json.JSONDecodeError, match="Expecting value"):
        jsonfast.loads(b"<html>")
