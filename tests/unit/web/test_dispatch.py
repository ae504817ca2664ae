from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from atoll.web.dispatch import PrefixDispatcher


class Recorder:
    def __init__(self, name: str, seen: list[tuple[str, str, str]]) -> None:
        self.name = name
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.append((self.name, scope["type"], scope.get("path", "")))


async def _nothing() -> Message:
    return {}


async def _drop(_message: Message) -> None:
    return None


async def test_prefixes_choose_the_app_and_everything_else_goes_to_the_default() -> None:
    seen: list[tuple[str, str, str]] = []
    app = PrefixDispatcher(
        Recorder("admin", seen), [("/compute", Recorder("gw", seen)), ("/image/", Recorder("gw", seen))]
    )
    for path in ("/compute", "/compute/v2.1/servers", "/computer", "/image/versions", "/image", "/v1.0/pods", "/"):
        await app({"type": "http", "path": path}, _nothing, _drop)
    await app({"type": "lifespan"}, _nothing, _drop)
    assert seen == [
        ("gw", "http", "/compute"),
        ("gw", "http", "/compute/v2.1/servers"),
        ("admin", "http", "/computer"),
        ("gw", "http", "/image/versions"),
        ("gw", "http", "/image"),
        ("admin", "http", "/v1.0/pods"),
        ("admin", "http", "/"),
        ("admin", "lifespan", ""),
    ]
