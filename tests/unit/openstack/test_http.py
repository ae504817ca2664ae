"""The health probe's client still times out a service that does not answer in time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from atoll.openstack.http import probe_client


@pytest.fixture
async def slow_service() -> AsyncIterator[str]:
    """A service that answers each request after `delay` seconds (the query parameter), one at a time per connection."""

    async def answer(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("delay", "0")))
        return web.json_response({"versions": []})

    app = web.Application()
    app.router.add_get("/", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


async def test_a_service_slower_than_the_timeout_still_times_out(slow_service: str) -> None:
    async with probe_client(timeout=0.2, connections=1) as client:
        with pytest.raises(httpx.TimeoutException):
            await client.get(slow_service, params={"delay": "2"})
