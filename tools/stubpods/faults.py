"""Each service's own error bodies, as recorded from the real services (see recorded/).

- Nova, Cinder: ``{"itemNotFound": {"code": 404, "message": "..."}}``, the key named after the status
  (406 and 500 are ``computeFault``).
- Neutron: ``{"NeutronError": {"type": "NetworkNotFound", "message": "...", "detail": ""}}``.
- Glance, and Nova's/Cinder's unknown routes: webob's HTML page (JSON when the client asks only for JSON).
- Placement: ``{"errors": [{"status": 404, "title": "Not Found", "detail": "...", "request_id": "..."}]}``.
- keystonemiddleware's 401 (all but Glance): ``{"error": {"code": 401, "title": "Unauthorized", "message": ...}}``.
"""

from __future__ import annotations

import html
import http
import json

from aiohttp import web

NOVA_FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}
AUTH_REQUIRED = "The request you have made requires authentication."
NOT_FOUND = "The resource could not be found."
GLANCE_UNAUTHORIZED = (
    "This server could not verify that you are authorized to access the document you requested. Either you "
    "supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the "
    "credentials required."
)
JSON_UTF8 = "application/json; charset=UTF-8"


def json_response(status: int, body: object, content_type: str = "application/json") -> web.Response:
    response = web.Response(status=status, body=json.dumps(body).encode())
    response.headers["Content-Type"] = content_type
    return response


def unauthorized(service: str, request: web.Request) -> web.Response:
    if service == "image":
        return webob(401, GLANCE_UNAUTHORIZED, request)
    return json_response(401, {"error": {"code": 401, "message": AUTH_REQUIRED, "title": "Unauthorized"}})


def nova(status: int, message: str) -> web.Response:
    name = NOVA_FAULT_NAMES.get(status, "computeFault")
    return json_response(status, {name: {"code": status, "message": message}}, JSON_UTF8)


def cinder(status: int, message: str) -> web.Response:
    name = NOVA_FAULT_NAMES.get(status, "computeFault")
    return json_response(status, {name: {"code": status, "message": message}})


def neutron(status: int, message: str, kind: str) -> web.Response:
    return json_response(status, {"NeutronError": {"detail": "", "message": message, "type": kind}})


def webob(status: int, message: str, request: web.Request, detail: str = "") -> web.Response:
    """webob's error page: JSON when the client accepts JSON but not HTML, else HTML."""
    phrase = http.HTTPStatus(status).phrase
    accept = request.headers.get("Accept", "")
    if "json" in accept and "html" not in accept:
        text = f"{message}\n\n{detail}" if detail else message
        return json_response(status, {"message": text, "code": f"{status} {phrase}", "title": phrase})
    body = (
        f"{html.escape(message)}\n<br /><br />\n{html.escape(detail)}\n"
        if detail
        else f"{html.escape(message)}<br /><br />\n\n\n\n"
    )
    page = (
        f"<html>\n <head>\n  <title>{status} {phrase}</title>\n </head>\n <body>\n  <h1>{status} {phrase}</h1>\n"
        f"  {body} </body>\n</html>"
    )
    response = web.Response(status=status, text=page)
    response.headers["Content-Type"] = "text/html; charset=UTF-8"
    return response


def placement(status: int, message: str, request_id: str, *, detail: str = "") -> web.Response:
    """`message` is webob's explanation, `detail` Placement's own words (its 404s carry both)."""
    phrase = http.HTTPStatus(status).phrase
    text = f"{message}\n\n {detail}  " if detail else f"{message}\n\n   "
    body = {"errors": [{"detail": text, "request_id": request_id, "status": status, "title": phrase}]}
    response = json_response(status, body)
    response.headers["OpenStack-API-Version"] = "placement 1.0"
    return response


def for_service(service: str, status: int, message: str, request: web.Request, request_id: str) -> web.Response:
    """The body a service answers with when it fails as a whole (an injected 5xx, an unknown route)."""
    if status == 404 and service in ("compute", "volume", "image"):
        return webob(404, message, request)
    if service == "compute":
        return nova(status, message)
    if service == "volume":
        return cinder(status, message)
    if service == "network":
        return neutron(status, message, "HTTPNotFound" if status == 404 else "HTTPServiceUnavailable")
    if service == "placement":
        return placement(status, message, request_id)
    return webob(status, message, request)
