"""Atoll's own ``marker``: where a merged listing stands in every pod.

A marker is text such as ``atoll1.AJOk...``: the version, then url-safe
base64 of a msgpack document, zlib-compressed when that is shorter:

    [fingerprint, high, {pod: position, ...}]

- ``fingerprint``: 4 bytes naming the collection and sort walk
  (`SortSpec.fingerprint`); a marker from another listing is refused.
- ``high``: the sort values of the furthest item shown so far (nil before any).
- a pod's ``position``: ``0`` when the pod is exhausted; its pod-native marker
  (the id of the last item taken from it; a UUID packed as 16 bytes) when it is
  *in step*; ``[native marker or nil, bound values or nil]`` when it *lags*;
  ``[waypoint, bound values or nil, 1]`` while it is still being *sought*
  (the waypoint is the last item passed over; nil bound: ``high``).

A pod is **in step** when everything it has left sorts after ``high``; a pod
absent from the marker is in step and has had nothing taken. A pod **lags**
after it failed on a page while the others moved on: it keeps its own
``bound`` (the values its remaining items sort after), so none of its items is
skipped. The bound is what a pod is re-sought by, from its start, when it has
no native marker or refuses the one it has (that item was deleted).

Markers are checked strictly: anything that does not decode to exactly this
shape for this listing is `InvalidMarker` (400), never an exception.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
import uuid
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import msgpack

from atoll.listing.errors import InvalidMarker
from atoll.listing.fields import Scalar
from atoll.listing.spec import SortSpec

VERSION = 1
MAX_TEXT = 16384
"""Longest marker text accepted (a position in each of 100 pods takes about 2.8 KB)."""
_MAX_PACKED = 65536
_PREFIX = re.compile(r"atoll(\d+)\.")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_RAW, _ZLIB = 0, 1

Values = tuple[Scalar, ...]


@dataclasses.dataclass(frozen=True)
class Position:
    """Where a listing stands in one pod."""

    after: str | None = None
    """The pod-native marker: the id of the last item taken from this pod (None: from its start)."""
    bound: Values | None = None
    """Only for a lagging pod: its remaining items sort after these values (None: nothing taken)."""
    lagging: bool = False
    exhausted: bool = False
    seeking: bool = False
    """`after` is only a waypoint of a seek: what follows it still has to be checked against the bound."""


START = Position()
EXHAUSTED = Position(exhausted=True)


@dataclasses.dataclass(frozen=True)
class Marker:
    fingerprint: bytes
    high: Values | None
    pods: Mapping[str, Position]

    @classmethod
    def start(cls, spec: SortSpec) -> Marker:
        """The position before the first page."""
        return cls(spec.fingerprint(), None, {})

    @classmethod
    def after_item(cls, spec: SortSpec, item: Mapping[str, Any], holders: Mapping[str, str]) -> Marker:
        """Strictly after `item` in every pod: for a client's plain-id ``marker``.

        `holders` maps the pods that have the item to its id there: they
        continue from it natively; every other pod is sought from its start,
        skipping what sorts at or before the item (see `pager.fetch_page`).
        """
        return cls(spec.fingerprint(), spec.values(item), {pod: Position(after=id_) for pod, id_ in holders.items()})

    @classmethod
    def finished(cls, spec: SortSpec, pods: Sequence[str], high: Values | None) -> Marker:
        """Past the end in every one of `pods`: the page it starts is empty and has no next link.

        For the next link Nova and Cinder give after any full page, the last one too.
        """
        return cls(spec.fingerprint(), high, dict.fromkeys(pods, EXHAUSTED))

    def position(self, pod: str) -> Position:
        return self.pods.get(pod, START)

    def bound(self, pod: str) -> Values | None:
        """The values a pod's remaining items sort after."""
        position = self.position(pod)
        return position.bound if position.lagging else self.high

    def encode(self) -> str:
        document = [self.fingerprint, _values(self.high), {pod: _pack(pos) for pod, pos in self.pods.items()}]
        packed = msgpack.packb(document, use_bin_type=True)
        squeezed = zlib.compress(packed, 9)
        body = bytes([_ZLIB]) + squeezed if len(squeezed) < len(packed) else bytes([_RAW]) + packed
        return f"atoll{VERSION}." + base64.urlsafe_b64encode(body).rstrip(b"=").decode()


def is_atoll_marker(text: str) -> bool:
    """Whether a client's ``marker`` is one of Atoll's (else it is a plain resource id)."""
    return _PREFIX.match(text) is not None


def decode(text: str, spec: SortSpec) -> Marker:
    """The marker `text` for a listing sorted by `spec`; `InvalidMarker` for anything else."""
    match = _PREFIX.match(text)
    if match is None:
        raise InvalidMarker("Invalid marker: it is not one Atoll made.")
    if int(match.group(1)) != VERSION:
        raise InvalidMarker(f"Invalid marker: version {match.group(1)} is not supported (this Atoll reads {VERSION}).")
    body = text[match.end() :]
    if len(text) > MAX_TEXT or not _BASE64URL.fullmatch(body):
        raise InvalidMarker("Invalid marker: it is damaged.")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        document = msgpack.unpackb(_unsqueeze(raw), raw=False, use_list=True, strict_map_key=True, ext_hook=_no_ext)
        marker = _marker(document, len(spec.keys))
    except (ValueError, TypeError, binascii.Error, zlib.error, msgpack.UnpackException, _Malformed):
        raise InvalidMarker("Invalid marker: it is damaged.") from None
    if marker.fingerprint != spec.fingerprint():
        raise InvalidMarker("Invalid marker: it was made for another list or sort order.")
    return marker


class _Malformed(Exception):
    pass


def _no_ext(code: int, data: bytes) -> Any:
    raise _Malformed


def _unsqueeze(raw: bytes) -> bytes:
    if not raw or raw[0] not in (_RAW, _ZLIB):
        raise _Malformed
    if raw[0] == _RAW:
        return raw[1:]
    inflate = zlib.decompressobj()
    packed = inflate.decompress(raw[1:], _MAX_PACKED)
    if inflate.unconsumed_tail or not inflate.eof:
        raise _Malformed
    return packed


def _pack_id(value: str) -> str | bytes:
    try:
        packed = uuid.UUID(value)
    except ValueError:
        return value
    return packed.bytes if str(packed) == value else value


def _unpack_id(value: object) -> str:
    if isinstance(value, bytes) and len(value) == 16:
        return str(uuid.UUID(bytes=value))
    if isinstance(value, str) and value:
        return value
    raise _Malformed


def _values(values: Values | None) -> list[Scalar] | None:
    if values is None:
        return None
    # msgpack packs integers of 64 bits; a larger one (never a real sort value) is kept as a float
    return [float(v) if isinstance(v, int) and not -(2**63) <= v < 2**64 else v for v in values]


def _pack(position: Position) -> Any:
    if position.exhausted:
        return 0
    after = None if position.after is None else _pack_id(position.after)
    bound = _values(position.bound) if position.lagging else None
    if position.seeking:
        return [after, bound, 1]
    if position.lagging:
        return [after, bound]
    return after


def _check_values(value: object, count: int) -> Values | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != count:
        raise _Malformed
    for scalar in value:
        if scalar is not None and not isinstance(scalar, str | int | float | bool):
            raise _Malformed
    return tuple(value)


def _position(value: object, count: int) -> Position:
    if value == 0 and not isinstance(value, bool):
        return EXHAUSTED
    if isinstance(value, list) and len(value) == 3:
        if value[2] != 1 or value[0] is None:
            raise _Malformed
        bound = _check_values(value[1], count)
        return Position(_unpack_id(value[0]), bound, lagging=bound is not None, seeking=True)
    if isinstance(value, list) and len(value) == 2:
        after = None if value[0] is None else _unpack_id(value[0])
        bound = _check_values(value[1], count)
        if after is not None and bound is None:
            raise _Malformed  # a pod that had items taken always has a bound
        return Position(after, bound, lagging=True)
    if isinstance(value, list):
        raise _Malformed
    return Position(after=_unpack_id(value))


def _marker(document: object, count: int) -> Marker:
    if not isinstance(document, list) or len(document) != 3:
        raise _Malformed
    fingerprint, high, pods = document
    if not isinstance(fingerprint, bytes) or not isinstance(pods, dict):
        raise _Malformed
    positions = {pod: _position(value, count) for pod, value in pods.items() if isinstance(pod, str)}
    if len(positions) != len(pods):
        raise _Malformed
    marker = Marker(fingerprint, _check_values(high, count), positions)
    if marker.high is None and any(p.after is not None and not p.lagging for p in positions.values()):
        raise _Malformed  # an in-step pod with items taken needs the high mark to be sought by
    return marker
