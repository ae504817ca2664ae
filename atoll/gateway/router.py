"""Method + path routing inside one service, declared as data.

`Route("GET", "/servers/{server_id}", handler)`: `{name}` matches one path segment,
`{name:path}` the rest of the path.
Routes are tried in order, so a literal segment ("/servers/detail") is declared
before the variable one it would also match.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence

from atoll.core.errors import AtollError, NotFound
from atoll.gateway.http import GatewayRequest, Reply

Handler = Callable[[GatewayRequest], Awaitable[Reply]]

_PARAM = re.compile(r"\{(\w+)(:path)?\}")


class MethodNotAllowed(AtollError):
    status = 405
    fault = "badMethod"


@dataclasses.dataclass(frozen=True)
class Route:
    methods: str | Sequence[str]
    path: str
    handler: Handler

    def compiled(self) -> re.Pattern[str]:
        literal = re.escape(self.path).replace(r"\{", "{").replace(r"\}", "}").replace(r"\:", ":")
        pattern = _PARAM.sub(lambda m: f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})", literal)
        return re.compile(f"^{pattern}/?$")

    @property
    def method_set(self) -> frozenset[str]:
        return frozenset([self.methods] if isinstance(self.methods, str) else self.methods)


class Router:
    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = list(routes)
        self._compiled = [(r.compiled(), r.method_set, r.handler) for r in self.routes]

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        allowed = False
        for pattern, methods, handler in self._compiled:
            found = pattern.match(path)
            if found is None:
                continue
            if method in methods or "*" in methods:
                return handler, found.groupdict()
            allowed = True
        if allowed and not path.endswith("/"):
            # `DELETE /volumes/` is a call on an item with an empty id to the services: 404, not 405
            raise MethodNotAllowed(f"The method {method} is not allowed for this resource.")
        raise NotFound("The resource could not be found.")
