"""Lists merged across pods: sort like each service, merge like its database, page exactly.

Pure and transport-agnostic: this package never does HTTP; the caller gives
it an async ``fetch(pod, query)`` and forwards what it returns. It imports
only `atoll.core` and `atoll.types`. The gateway's list route is, in outline::

    request = parsing.parse(declared.SERVERS, query_pairs, max_limit=1000, microversion=(2, 96))
    marker = None
    if request.marker is not None:
        if is_atoll_marker(request.marker):
            marker = decode(request.marker, request.spec)              # InvalidMarker -> 400
        else:                                                         # openstack --marker <id>
            item, pods = ...  # the gateway looks the item up (routing table / each pod)
            marker = Marker.after_item(request.spec, item, {pod: item["id"] for pod in pods})
    pager = Pager(fetch, timeout=conf.pod_timeout)
    page = await pager.page(project_pods, request.spec, request.limit, marker)
    body = {"servers": page.items, **links(request.spec, public_url, query_pairs, page)}
    if page.partial:                                                  # log page.partial's reasons
        headers["Atoll-Partial-Pods"] = ",".join(page.partial)

where ``fetch(pod, query)`` GETs the pod's list with ``request.filters`` +
``query.params()`` and returns ``PodAnswer(items, more=<a next link was
given>)``; it raises ``PodUnavailable(reason)`` for a timeout, a connection
error, a 5xx or an unusable body, ``MarkerNotFound`` when the pod refuses
``query.marker`` (`is_marker_refusal` tells), and lets anything else (a
pod's 401/403/400) propagate, which cancels the other pods' calls.

Modules:

- `fields`, `declared`: sortable collections as data (servers, volumes,
  snapshots, images, Neutron's collections): sort keys, where each value is
  shown, the unique tie-breaker.
- `parsing`: `parse` -> `ListRequest` (spec, limit, marker, filters), with each
  service's defaults, quirks and 400 messages.
- `spec`: `SortSpec`, the normalized (key, direction) list, ending with the
  tie-breaker; `pod_params()` asks a pod to sort exactly that way.
- `ordering`: comparison as MySQL/MariaDB (default), PostgreSQL or SQLite order.
- `merge`: the k-way merge (`merge`) and `dedupe`.
- `marker`: Atoll's opaque marker (`Marker`, `decode`, `is_atoll_marker`).
- `fanout`: `fan_out`, concurrent calls with a per-pod timeout.
- `pager`: `Pager.page`, one exact page (fan-out, seek, merge, follow-ups, new marker).
- `sizing`: `first_ask`, how many items to ask each pod for first.
- `links`: next/previous links and Glance's ``first``/``next``.
- `errors`: what the client sees (400s) and what a fetch raises.
"""

from atoll.listing.errors import (
    InvalidLimit,
    InvalidMarker,
    InvalidSort,
    MarkerNotFound,
    PodUnavailable,
    UnmergeableSort,
)
from atoll.listing.links import links
from atoll.listing.marker import Marker, decode, is_atoll_marker
from atoll.listing.merge import Entry, dedupe, merge
from atoll.listing.pager import Page, Pager, PodAnswer, PodQuery
from atoll.listing.parsing import ListRequest, parse
from atoll.listing.refusals import is_marker_refusal
from atoll.listing.spec import SortSpec

__all__ = [
    "Entry",
    "InvalidLimit",
    "InvalidMarker",
    "InvalidSort",
    "ListRequest",
    "Marker",
    "MarkerNotFound",
    "Page",
    "Pager",
    "PodAnswer",
    "PodQuery",
    "PodUnavailable",
    "SortSpec",
    "UnmergeableSort",
    "decode",
    "dedupe",
    "is_atoll_marker",
    "is_marker_refusal",
    "links",
    "merge",
    "parse",
]
