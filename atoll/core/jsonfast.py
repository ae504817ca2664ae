"""JSON on the gateway's data path: orjson, falling back to the standard library.

A merged list parses every pod's page and writes one document back: with the standard
library that was most of the gateway's CPU for `GET /servers/detail` (bench/gateway_hop.py:
about 520 of 670 µs for a page of 20 servers; orjson does the same in about 75). orjson
refuses what the standard library accepts (integers beyond 64 bits, NaN and Infinity in
a pod's body, keys that are not strings), so each function falls back to `json` rather
than fail a call the standard library would have served. The output differs only in
whitespace and in writing non-ASCII as UTF-8 rather than `\\u` escapes: the same JSON.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(document: Any) -> bytes:
    try:
        return orjson.dumps(document)
    except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits, a key that is not a string
        return json.dumps(document).encode()


def loads(data: bytes | str) -> Any:
    """Raises ValueError (json.JSONDecodeError) for what is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:  # NaN, Infinity, a huge integer... or not JSON at all
        return json.loads(data)
