from __future__ import annotations

import pathlib

from atoll.engine.coordination import ToozLeadership


async def test_exactly_one_leader_and_take_over_after_release(tmp_path: pathlib.Path) -> None:
    url = f"file://{tmp_path}"
    first = ToozLeadership(url, member_id="engine-1")
    second = ToozLeadership(url, member_id="engine-2")
    try:
        assert await first.is_leader() is True
        assert await second.is_leader() is False
        assert await first.is_leader() is True  # still leader on the next turn
        assert await second.is_leader() is False

        await first.release()
        assert await second.is_leader() is True

        again = ToozLeadership(url, member_id="engine-3")
        try:
            assert await again.is_leader() is False
        finally:
            await again.release()
    finally:
        await first.release()
        await second.release()


async def test_release_without_ever_leading_is_harmless(tmp_path: pathlib.Path) -> None:
    idle = ToozLeadership(f"file://{tmp_path}")
    await idle.release()
    await idle.release()
