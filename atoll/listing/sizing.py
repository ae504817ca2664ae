"""How many items to ask each pod for first, when one page is merged from several pods.

A page of `limit` items may come from any one pod, so asking each pod for
``limit + 1`` always suffices, but then 100 pods answer, and Atoll parses,
merges and drops, about 2,000 server documents to show 20. `Pager` asks each
pod for fewer first and goes back only to a pod whose items the page used up
while it has more (see `pager`), so the page is exact whatever this returns;
the number only trades documents fetched against the odds of that second
round trip.

If the page's items were spread at random over the pods, a pod's share would
be Binomial(limit, 1/pods): mean ``m = limit / pods``, standard deviation at
most ``sqrt(m)``. ``ceil(m + 3 sqrt(m)) + 2`` makes a second round needed on
about 1% of pages or fewer for a 20-item page up to 300 pods (0.4% at
100 pods, 4 items each), under 7% for a 1000-item page over 100 pods; the
``+ 2`` keeps small shares (m well under 1, where the square root says
little) from an unlucky pod holding three of the page. When the data
is not spread (one pod holds all the newest items), that pod is asked again
for the rest of the page whatever this says: one more round trip, to it alone.

Measured (bench/gateway_lists.py's stub pods, docs/benchmarks.md): atoll-api's
CPU for a 20-item page across 100 pods is 29, 36, 45 and 86 ms asking each pod
for 2, 4, 8 and 21 items, about 30 µs per server document; a second round costs
a pod's whole round trip (20 ms there, more for a real Nova's detailed list).
Fewer than 4 at 100 pods would save a few ms of CPU and make second rounds
common (10% of pages at 3, most at 2, for items spread at random).

Two cases ask for the whole page at once, as before:

- few documents in all (`FULL_BUDGET`: at most 1,000 items over every pod, about
  30 ms of atoll-api's CPU even if every pod filled its share; a 20-item page over
  up to 47 pods): a second round trip to a real pod (50-200 ms for a detailed
  list) costs more than that;
- the pods the caller passes as `hot` to `Pager.page`: where the gateway's
  routings say the project's resources of that kind live. A project is bound to
  one pod per AZ, so its servers mostly sit in a few pods and the rest answer
  nothing whatever they are asked; asking those few for a share only would make
  nearly every page of such a project a second round trip.
"""

from __future__ import annotations

import math

FULL_BUDGET = 1000
"""Items over all the pods up to which each pod is asked for the whole page at once."""


def first_ask(limit: int, pods: int) -> int:
    """Items to ask each of `pods` pods for first, for a page of `limit` (at least 1, at most ``limit + 1``)."""
    if pods * (limit + 1) <= FULL_BUDGET:  # no pods at all among them
        return limit + 1
    share = limit / pods
    return min(limit + 1, math.ceil(share + 3 * math.sqrt(share)) + 2)
