"""Error bodies in each service's own shape, for the errors Atoll itself answers.

Errors a pod answers are relayed as the pod wrote them; these are for Atoll's
own (no token, unknown route, pod down, a request that would cross pods, ...).
"""

from __future__ import annotations

import http
import json

from atoll.core.errors import FAULT_NAMES
from atoll.gateway.services import FaultStyle

# Nova and Cinder name a few statuses differently from Atoll's admin API.
_NOVA_NAMES = {**FAULT_NAMES, 406: "computeFault", 422: "badRequest"}


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def fault_body(style: FaultStyle, status: int, message: str) -> bytes:
    if style is FaultStyle.NEUTRON:
        kind = "HTTP" + _phrase(status).replace(" ", "").replace("-", "")
        body: object = {"NeutronError": {"type": kind, "message": message, "detail": ""}}
    elif style is FaultStyle.GLANCE:
        body = {"message": message, "code": f"{status} {_phrase(status)}", "title": _phrase(status)}
    else:
        body = {_NOVA_NAMES.get(status, "computeFault"): {"code": status, "message": message}}
    return json.dumps(body).encode()
