"""API microversions: parsing, comparing, and reading a pod service's range from its
version document (Nova `/v2.1/`, Cinder `/v3/`)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from atoll.pods.versions import entries

_VERSION = re.compile(r"^(\d+)\.(\d+)$")


@dataclasses.dataclass(frozen=True, order=True)
class APIVersion:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> APIVersion:
        match = _VERSION.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"not a microversion: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclasses.dataclass(frozen=True)
class VersionRange:
    min: APIVersion
    max: APIVersion

    def __contains__(self, version: object) -> bool:
        return isinstance(version, APIVersion) and self.min <= version <= self.max

    def __str__(self) -> str:
        return f"{self.min}-{self.max}"


def intersect(ranges: Iterable[VersionRange]) -> VersionRange | None:
    """What every range supports: the max of the mins to the min of the maxes; None if empty."""
    items = list(ranges)
    if not items:
        return None
    low = max(r.min for r in items)
    high = min(r.max for r in items)
    return VersionRange(low, high) if low <= high else None


def range_from_document(document: Mapping[str, Any], major: int) -> VersionRange | None:
    """The microversion range of the CURRENT entry of major version `major` in a version
    document, the way keystoneauth1 reads it (`min_version`, `version`); None when the
    document advertises no microversions for it."""
    for entry in entries(document):
        try:
            low = APIVersion.parse(str(entry.get("min_version") or ""))
            high = APIVersion.parse(str(entry.get("version") or entry.get("max_version") or ""))
        except ValueError:
            continue
        if low.major == major == high.major and low <= high:
            return VersionRange(low, high)
    return None
