"""Next (and Neutron's previous) links carrying Atoll's marker, in each service's body shape.

The link repeats the client's query (filters, sort, limit, in their order)
with ``marker`` replaced, so following it continues the same listing:

- Nova, Cinder: ``"<name>_links": [{"rel": "next", "href": ...}]``, only when there is more;
- Glance: ``"first"`` (the query without marker) and, when there is more, ``"next"``;
  Glance's links are relative to the image endpoint, so pass ``"/v2/images"`` as base;
- Neutron: ``"<name>_links"`` with ``next`` when there is more and ``previous``
  (``page_reverse=True``) as Neutron gives it, from the page's first item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from atoll.listing.marker import Marker
from atoll.listing.merge import Entry
from atoll.listing.pager import Page
from atoll.listing.spec import SortSpec
from atoll.types import ServiceType

Query = Sequence[tuple[str, str]]


def href(base_url: str, query: Query, marker: Marker | None, *, reverse: bool | None = None) -> str:
    """`base_url` with `query`, its ``marker`` replaced (removed when None); `reverse` sets ``page_reverse``."""
    drop = {"marker"} if reverse is None else {"marker", "page_reverse"}
    pairs = [(name, value) for name, value in query if name not in drop]
    if marker is not None:
        pairs.append(("marker", marker.encode()))
    if reverse:
        pairs.append(("page_reverse", "True"))
    return f"{base_url}?{urlencode(pairs)}" if pairs else base_url


def links(spec: SortSpec, base_url: str, query: Query, page: Page) -> dict[str, Any]:
    """The link members of a list response body for this page."""
    collection = spec.collection
    if collection.service is ServiceType.IMAGE:
        body: dict[str, Any] = {"first": href(base_url, query, None)}
        if page.next is not None:
            body["next"] = href(base_url, query, page.next)
        return body
    if collection.service is not ServiceType.NETWORK:
        if page.next is None:
            return {}
        return {f"{collection.name}_links": [{"rel": "next", "href": href(base_url, query, page.next)}]}
    return {f"{collection.name}_links": _neutron(spec, base_url, query, page)}


def _neutron(spec: SortSpec, base_url: str, query: Query, page: Page) -> list[dict[str, str]]:
    forward, backward = (spec.backwards(), spec) if spec.reverse else (spec, spec.backwards())
    entries = page.entries
    # The walk's own continuation is exact; the other direction starts strictly beyond the
    # page's first (last, when reversed) item in every pod.
    if spec.reverse:
        ahead = _beyond(forward, entries[-1]) if entries else None
        behind = page.next
        show_behind = page.next is not None
        show_ahead = True
    else:
        ahead = page.next
        behind = _beyond(backward, entries[0]) if entries else None
        show_ahead = page.next is not None
        show_behind = True
    links = []
    if show_ahead:
        links.append({"rel": "next", "href": href(base_url, query, ahead, reverse=False)})
    if show_behind:
        links.append({"rel": "previous", "href": href(base_url, query, behind, reverse=True)})
    return links


def _beyond(spec: SortSpec, entry: Entry) -> Marker:
    holders = {pod: spec.collection.item_id(entry.item) for pod in entry.pods}
    return Marker.after_item(spec, entry.item, holders)
