"""What can go wrong in a merged listing, and who sees it.

InvalidInput (atoll.core.errors, 400 badRequest)  -- the client sees these
 ├── InvalidSort         a sort parameter the service itself would refuse
 ├── InvalidMarker       a marker that is not one of Atoll's, or not for this listing
 ├── InvalidLimit        a limit the service itself would refuse
 └── UnmergeableSort     a valid sort key whose value the listed items do not show

PodError                                          -- raised by a fetch, never seen by the client
 ├── PodUnavailable      timed out, unreachable, 5xx or malformed: the pod is reported partial
 └── MarkerNotFound      the pod refused its marker (the item was deleted): re-seek by sort values
"""

from __future__ import annotations

from atoll.core.errors import InvalidInput


class InvalidSort(InvalidInput):
    pass


class InvalidMarker(InvalidInput):
    pass


class InvalidLimit(InvalidInput):
    pass


class UnmergeableSort(InvalidInput):
    pass


class PodError(Exception):
    """Raised by a fetch function to tell the pager how a pod's request failed."""


class PodUnavailable(PodError):
    """The pod did not answer usefully (timeout, connection error, 5xx, a malformed list).

    The message says why, for logs; it must not contain tokens or credentials.
    """


class MarkerNotFound(PodError):
    """The pod rejected the pod-native marker it was given: that item no longer exists there."""
