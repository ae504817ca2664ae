"""Leader election with tooz (file, Redis, etcd, PostgreSQL or MySQL backends)."""

from __future__ import annotations

import logging
import socket
import uuid

import anyio.to_thread
from tooz import coordination

LOG = logging.getLogger(__name__)

LEADER_LOCK = b"atoll-engine-leader"


class ToozLeadership:
    def __init__(self, backend_url: str, member_id: str | None = None) -> None:
        member = member_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self._coordinator = coordination.get_coordinator(backend_url, member.encode())
        self._lock = self._coordinator.get_lock(LEADER_LOCK)
        self._started = False
        self._leader = False

    async def is_leader(self) -> bool:
        if not self._leader:
            self._leader = await anyio.to_thread.run_sync(self._try_acquire)
            if self._leader:
                LOG.info("This engine is now the leader and runs the periodic tasks")
        return self._leader

    def _try_acquire(self) -> bool:
        if not self._started:
            self._coordinator.start(start_heart=True)
            self._started = True
        return bool(self._lock.acquire(blocking=False))

    async def release(self) -> None:
        await anyio.to_thread.run_sync(self._release)

    def _release(self) -> None:
        if self._leader:
            self._lock.release()
            self._leader = False
        if self._started:
            self._coordinator.stop()
            self._started = False
