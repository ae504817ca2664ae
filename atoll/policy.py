"""Checks a request context against the oslo.policy rules.

oslo.policy, left to itself, stats the policy file and each policy directory
on every check, and re-reads and re-parses them inside the check when they
changed. Here the rules are loaded once when the Authorizer is made and a
check never touches the disk: `watch` looks at the files every few seconds
in a worker thread, and when they changed loads a whole new enforcer there
and swaps it in at once, so a request never sees half-loaded rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from oslo_config import cfg
from oslo_policy import policy

from atoll.context import RequestContext
from atoll.core.errors import Forbidden
from atoll.core.tasks import create_guarded_task
from atoll.policies import make_enforcer

LOG = logging.getLogger(__name__)

FileStamp = tuple[str, int, int, int]
"""A file's path, inode, size and modification time (ns): a new one for any rewrite."""


def _stamp(path: str) -> FileStamp:
    status = os.stat(path)
    return (path, status.st_ino, status.st_size, status.st_mtime_ns)


def policy_files(conf: cfg.ConfigOpts) -> tuple[FileStamp, ...]:
    """The files oslo.policy would read (policy_file, then the files of each of policy_dirs), stamped.

    Resolved as oslo.policy resolves them, so a file that appears in a searched
    directory, or goes, counts as a change too."""
    stamps = []
    for name in (conf.oslo_policy.policy_file, *conf.oslo_policy.policy_dirs):
        path = conf.find_file(name)
        if path is None:
            continue
        if os.path.isdir(path):
            names = sorted(entry for entry in os.listdir(path) if not entry.startswith("."))
            stamps += [_stamp(os.path.join(path, entry)) for entry in names]
        else:
            stamps.append(_stamp(path))
    return tuple(stamps)


def load_enforcer(conf: cfg.ConfigOpts) -> policy.Enforcer:
    """An enforcer with every rule loaded, which no longer looks at the files itself."""
    enforcer = make_enforcer(conf)
    enforcer.load_rules()
    enforcer.use_conf = False
    return enforcer


class Authorizer:
    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._conf = conf
        self._files = policy_files(conf)
        self._enforcer = load_enforcer(conf)

    def authorize(self, context: RequestContext, rule: str, target: dict[str, Any] | None = None) -> None:
        """Raise `Forbidden` unless `context` passes `rule` for `target`."""
        target = target if target is not None else {"project_id": context.project_id}
        try:
            allowed = self._enforcer.authorize(rule, target, context.policy_credentials(), do_raise=False)
        except policy.InvalidScope:
            allowed = False
        if not allowed:
            raise Forbidden(f"Policy doesn't allow {rule} to be performed.")

    def check(self, context: RequestContext, rule: str, target: dict[str, Any] | None = None) -> bool:
        try:
            self.authorize(context, rule, target)
        except Forbidden:
            return False
        return True

    async def refresh(self) -> bool:
        """Load the rules again if the policy files changed since they were loaded; True if it did.

        A file that cannot be loaded leaves the rules in force, and is not tried
        again until it changes again."""
        files = await anyio.to_thread.run_sync(policy_files, self._conf)
        if files == self._files:
            return False
        self._files = files
        try:
            enforcer = await anyio.to_thread.run_sync(load_enforcer, self._conf)
        except Exception as error:
            LOG.error("The policy files %s could not be loaded; the rules in force stay: %s", _paths(files), error)
            return False
        self._enforcer = enforcer
        LOG.info("Policy rules reloaded from %s", _paths(files) or "the defaults in code")
        return True

    async def watch(self, interval: float) -> None:
        """Refresh every `interval` seconds, for ever; a failure is logged, never ends the watch."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except Exception:
                LOG.exception("Looking for policy file changes failed")

    @contextlib.asynccontextmanager
    async def watching(self, interval: float) -> AsyncIterator[None]:
        """`watch` in the background while the block runs (not at all if `interval` is 0)."""
        if interval <= 0:
            yield
            return
        task = create_guarded_task(self.watch(interval), name="policy-watch", logger=LOG)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _paths(files: tuple[FileStamp, ...]) -> str:
    return ", ".join(stamp[0] for stamp in files)
