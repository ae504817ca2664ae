from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"),
]
"""A non-blank name without control characters."""

OptionalName = Annotated[str, StringConstraints(max_length=255, pattern=r"^[^\x00-\x1f\x7f]*$")]

Uuid36 = Annotated[str, StringConstraints(min_length=1, max_length=36, pattern=r"^[^\x00-\x1f\x7f]+$")]


class Strict(BaseModel):
    """Request bodies: an unknown field is an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Reply(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Timestamp = dt.datetime


class Link(Reply):
    rel: str
    href: str
