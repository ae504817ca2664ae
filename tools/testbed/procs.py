"""Process control: start the test bed's processes, wait until they answer, stop them.

Every process the test bed starts is recorded in ``<state>/pids/NAME.json``
(pid, kernel start time, command line), in its own process group.  Stopping
signals exactly that process group, after checking the pid still belongs to
the recorded process (pids get reused), and never looks processes up by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testbed.util import TestbedError, answers, tail


@dataclass
class Service:
    """One process of the test bed: how to run it and how to tell it is ready."""

    name: str  # process name, e.g. pod1-nova-api
    argv: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None
    health: str | None = None  # URL that must answer
    api: bool = False


def _proc_starttime(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # field 22 (starttime); the command (field 2) may contain spaces.
    fields = stat.rsplit(")", 1)[1].split()
    state = fields[0]
    if state in ("Z", "X"):
        return None
    return fields[19]


class ProcessTable:
    def __init__(self, piddir: Path) -> None:
        self.piddir = piddir

    def _file(self, name: str) -> Path:
        return self.piddir / f"{name}.json"

    def record(self, name: str) -> dict[str, Any] | None:
        try:
            record: dict[str, Any] = json.loads(self._file(name).read_text())
        except (FileNotFoundError, ValueError):
            return None
        return record

    def names(self) -> list[str]:
        if not self.piddir.exists():
            return []
        return sorted(p.stem for p in self.piddir.glob("*.json"))

    def pid(self, name: str) -> int | None:
        """The recorded pid if that very process is still alive."""
        rec = self.record(name)
        if not rec:
            return None
        if _proc_starttime(rec["pid"]) != rec.get("starttime"):
            return None
        pid: int = rec["pid"]
        return pid

    def alive(self, name: str) -> bool:
        return self.pid(name) is not None

    def start(
        self, name: str, argv: list[str], env: dict[str, str], log: Path, cwd: Path, port: int | None = None
    ) -> int:
        running = self.pid(name)
        if running is not None:
            return running
        log.parent.mkdir(parents=True, exist_ok=True)
        self.piddir.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            out.write(f"\n=== {time.ctime()} starting {name}: {' '.join(argv)}\n".encode())
            out.flush()
            proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=str(cwd),
                start_new_session=True,
                close_fds=True,
            )
        start = None
        for _ in range(50):
            start = _proc_starttime(proc.pid)
            if start:
                break
            time.sleep(0.01)
        if start is None:
            raise TestbedError(f"{name} exited at once; see {log}")
        self._file(name).write_text(
            json.dumps(
                {
                    "pid": proc.pid,
                    "starttime": start,
                    "argv": argv,
                    "port": port,
                    "log": str(log),
                    "started": time.time(),
                }
            )
        )
        return proc.pid

    def stop(self, name: str, timeout: float = 6.0, sig: int = signal.SIGTERM) -> bool:
        """Stop the recorded process group; True if something was stopped.

        ``sig`` goes to the whole group first; whatever is still alive after
        ``timeout`` seconds gets SIGKILL.
        """
        pid = self.pid(name)
        stopped = False
        if pid is not None:
            stopped = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, sig)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self._group_alive(pid):
                time.sleep(0.1)
            if self._group_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and self._group_alive(pid):
                    time.sleep(0.1)
        self._file(name).unlink(missing_ok=True)
        return stopped

    @staticmethod
    def _group_alive(pgid: int) -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        # killpg(…, 0) also succeeds for zombies; look for a live member.
        return bool(live_group_members(pgid))

    def group_pids(self, name: str) -> list[int]:
        """All live pids in the recorded process group (for memory use)."""
        pid = self.pid(name)
        if pid is None:
            return []
        return live_group_members(pid)


def live_group_members(pgid: int) -> list[int]:
    """Pids of the process group's members that are neither zombies nor dead."""
    out: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            out.append(int(entry.name))
    return out


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def start_service(procs: ProcessTable, svc: Service, cwd: Path) -> None:
    """Start ``svc`` unless it runs; refuse if something else holds its port."""
    if procs.alive(svc.name):
        return
    if svc.port and answers(f"http://127.0.0.1:{svc.port}/", 2):
        raise TestbedError(f"port {svc.port} for {svc.name} is already taken by a process the test bed did not start")
    procs.start(svc.name, svc.argv, svc.env, svc.log, cwd, svc.port)


def wait_service(procs: ProcessTable, svc: Service, timeout: float = 180) -> None:
    """Wait until ``svc`` answers its health URL; fail at once, with its log, if it dies."""
    if not svc.health:
        return
    deadline = time.monotonic() + timeout
    while True:
        if not procs.alive(svc.name):
            raise TestbedError(f"{svc.name} died; last log lines:\n{tail(svc.log)}")
        if answers(svc.health):
            return
        if time.monotonic() > deadline:
            raise TestbedError(
                f"{svc.name} does not answer {svc.health} after {timeout:.0f}s; see {svc.log}:\n{tail(svc.log)}"
            )
        time.sleep(0.3)
