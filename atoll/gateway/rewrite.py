"""Pods' URLs never reach users: links, `Location` and next links are rewritten to Atoll's.

A pod service's *root* is its catalog URL without the version segment
(`http://10.0.0.5:8774/v2.1` -> `http://10.0.0.5:8774`; DevStack's
`http://10.0.0.5/compute/v2.1` -> `http://10.0.0.5/compute`; Glance's catalog URL has
no version). Nova's self links live under the root plus version, its bookmark links
under the root itself, so replacing each pod root with Atoll's root of the same
service rewrites both, and the image links Nova writes with Glance's root too.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping

from atoll.pods.info import PodInfo

_VERSION_SEGMENT = re.compile(r"/v\d+(?:\.\d+)?$")


@functools.lru_cache(maxsize=4096)  # a handful of pod URLs, asked on every proxied call
def service_root(url: str) -> str:
    return _VERSION_SEGMENT.sub("", url.rstrip("/"))


class Rewriter:
    """Replaces pod roots with Atoll's roots in bodies and headers: each root where a path or the
    string ends after it (`/` or `"`), the longest root where several match, in one pass.

    One regex, the roots' common prefix (a literal the engine searches for fast) followed by the
    alternatives, longest first. It replaces a loop of `bytes.replace` per root and end, whose
    scans for the roots a body does not hold cost ~5 µs each on a 29 KB page (the roots share
    "http://host:" with the ones it does hold): 50 µs for a 20-server page with a pod's four
    service roots, 20 µs this way.
    """

    def __init__(self, pairs: Mapping[str, str]) -> None:
        changed = sorted(((o.encode(), n.encode()) for o, n in pairs.items() if o != n), key=lambda p: -len(p[0]))
        prefix = _common_prefix([old for old, _ in changed])
        self._new = {old[len(prefix) :]: new for old, new in changed}
        alternatives = b"|".join(re.escape(rest) for rest in self._new)  # longest first: the first match wins
        self._pattern = re.compile(re.escape(prefix) + b"(" + alternatives + b')(?=[/"])') if changed else None

    def body(self, data: bytes) -> bytes:
        if self._pattern is None:
            return data
        parts = self._pattern.split(data)  # text, a matched root's rest, text, ...
        if len(parts) == 1:
            return data
        parts[1::2] = [self._new[rest] for rest in parts[1::2]]
        return b"".join(parts)

    def url(self, value: str) -> str:
        closed = self.body(f'{value}"'.encode()).decode()
        return closed[:-1]


def _common_prefix(values: list[bytes]) -> bytes:
    """The longest prefix of every value (that of the least and the greatest); empty for none."""
    if not values:
        return b""
    least, greatest = min(values), max(values)
    size = 0
    while size < len(least) and least[size] == greatest[size]:
        size += 1
    return least[:size]


def pod_pairs(pod: PodInfo, atoll_roots: Mapping[str, str], services: Iterable[str]) -> dict[str, str]:
    """Each of the pod's service roots -> Atoll's root of the same service."""
    pairs: dict[str, str] = {}
    for service in services:
        if pod.has(service) and service in atoll_roots:
            pairs[service_root(pod.url(service))] = atoll_roots[service]
    return pairs


class AzFields:
    """The fields of a document that name an AZ, set to the pod's Atoll AZ: in a pod's answer as it
    came (`body`), or in items already parsed (`items`, what a merged list does: it parses every
    page anyway, and the items' own fields are the only places these names sit in a list)."""

    def __init__(self, *fields: str) -> None:
        self.fields = fields
        self._keys = tuple(f'"{field}"'.encode() for field in fields)

    def items(self, items: Iterable[object], az: str) -> None:
        """Each item's string value of a field set to `az`, in place (a null stays null)."""
        for item in items:
            if isinstance(item, dict):
                for field in self.fields:
                    if isinstance(item.get(field), str):
                        item[field] = az

    def body(self, body: bytes, az: str) -> bytes:
        """Every string value of the fields in a JSON body set to `az`.

        On the bytes, not a parsed document: a pod's answer is relayed as it came. A value's
        escapes are passed whole (a pod AZ named ``a"b`` is one value), and `az` is written
        as a JSON string (an Atoll AZ may hold a quote or a backslash). A null stays null.
        A key with its quotes cannot occur inside a JSON string (its quotes would be escaped
        there), so each one found followed by a colon is a key of that name (at any depth).
        Found with `bytes.find` rather than a regex: 35 µs on a 20-server page, where the
        regex this replaces took 56-60 µs (it tried its alternation at every byte).
        """
        starts = sorted(at + len(key) for key in self._keys for at in _occurrences(body, key))
        if not starts:
            return body
        value, done = _encoded(az), 0
        parts: list[bytes] = []
        for start in starts:
            found = _string_value(body, start)
            if found is not None:
                parts += (body[done : found[0]], value)
                done = found[1]
        parts.append(body[done:])
        return b"".join(parts)


@functools.lru_cache(maxsize=256)
def _encoded(az: str) -> bytes:
    return json.dumps(az).encode()


def _occurrences(body: bytes, needle: bytes) -> Iterator[int]:
    at = body.find(needle)
    while at >= 0:
        yield at
        at = body.find(needle, at + len(needle))


_BLANK = b" \t\r\n"


def _string_value(body: bytes, at: int) -> tuple[int, int] | None:
    """(start, end) of the JSON string after the key ending at `at` (its quotes included), or
    None when the value is not a string."""
    size = len(body)
    while at < size and body[at] in _BLANK:
        at += 1
    if at >= size or body[at] != ord(":"):
        return None
    at += 1
    while at < size and body[at] in _BLANK:
        at += 1
    if at >= size or body[at] != ord('"'):
        return None
    end = at + 1
    while (end := body.find(b'"', end)) >= 0:
        backslashes = 0
        while body[end - 1 - backslashes] == ord("\\"):
            backslashes += 1
        if backslashes % 2 == 0:
            return at, end + 1
        end += 1
    return None
