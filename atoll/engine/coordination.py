"""Leader election with tooz (file, Redis, etcd, PostgreSQL or MySQL backends).

Every turn the engine asks `is_leader()`. A follower tries to take the lock
(without blocking); the leader heartbeats (which renews locks that expire,
as Redis and etcd ones do) and then asks the backend whether the lock is still
its own. The lock can be lost while this engine believes it leads: its
process stalled past the lock's expiry, or the backend was unreachable long
enough, and another engine took over. Then this engine steps down at once;
two engines never go on leading together past one turn.

tooz's calls block: they run in a worker thread.
"""

from __future__ import annotations

import logging
import socket
import uuid

import anyio.to_thread
import tooz
from tooz import coordination
from tooz.locking import Lock

LOG = logging.getLogger(__name__)

LEADER_LOCK = b"atoll-engine-leader"


class ToozLeadership:
    def __init__(self, backend_url: str, member_id: str | None = None, lock_name: bytes = LEADER_LOCK) -> None:
        member = member_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self._coordinator = coordination.get_coordinator(backend_url, member.encode())
        self._lock_name = lock_name
        self._lock: Lock | None = None
        self._started = False
        self._leader = False

    async def is_leader(self) -> bool:
        was_leader = self._leader
        # Abandoned when cancelled: tooz retries a refused Redis connection for about a
        # minute, and stopping the engine must not wait for that.
        self._leader = await anyio.to_thread.run_sync(self._check, abandon_on_cancel=True)
        if self._leader and not was_leader:
            LOG.info("This engine is now the leader and runs the periodic tasks")
        elif was_leader and not self._leader:
            LOG.warning("This engine lost its leader lock (expired or taken over); it steps down")
        return self._leader

    def _check(self) -> bool:
        if not self._started:
            # tooz's heart thread keeps an expiring lock alive between turns too,
            # so a long task does not cost the lock.
            self._coordinator.start(start_heart=True)
            self._started = True
            # Only a started coordinator can make a lock (Redis's needs its client).
            self._lock = self._coordinator.get_lock(self._lock_name)
        assert self._lock is not None
        if not self._leader:
            return bool(self._lock.acquire(blocking=False))
        self._coordinator.heartbeat()
        if _still_owner(self._lock):
            return True
        _forget(self._lock)
        return False

    async def release(self) -> None:
        await anyio.to_thread.run_sync(self._release)

    def _release(self) -> None:
        try:
            if self._leader and self._lock is not None:
                self._leader = False
                self._lock.release()
        finally:
            if self._started:
                self._started = False
                self._lock = None
                self._coordinator.stop()


def _still_owner(lock: Lock) -> bool:
    try:
        return bool(lock.is_still_owner())
    except tooz.NotImplemented:  # a backend that cannot tell (SQL advisory locks) holds its lock for the session
        return True


def _forget(lock: Lock) -> None:
    """Drop the local state of a lock another member now holds, so it is not renewed any more."""
    try:
        lock.release()
    except tooz.ToozError:
        LOG.debug("Releasing a lost lock failed, as it may", exc_info=True)
