"""Command line: python3 -m testbed {up,down,status,stop-pod,start-pod,restart-atoll,memory}."""

from __future__ import annotations

import argparse
import sys

from testbed.lifecycle import Testbed
from testbed.preflight import check_python
from testbed.util import TestbedError, say


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="testbed", description="Real multi-region OpenStack on 127.0.0.1 for Atoll.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="install (cached) and start the test bed")
    up.add_argument(
        "--pods", type=int, default=None, help="number of pods Pod1..PodN (default 2, or as recorded by a previous up)"
    )
    up.add_argument(
        "--atoll",
        action="store_true",
        help="also start atoll-api/atoll-engine from the project venv and register the pods",
    )
    up.add_argument("--keystone-only", action="store_true", help="only Keystone with users/projects (fast)")
    sub.add_parser("down", help="stop everything the test bed started, drop its databases and vhosts")
    sub.add_parser("status", help="show each service, port and pid")
    sp = sub.add_parser("stop-pod", help="stop a pod's API processes")
    sp.add_argument("name")
    st = sub.add_parser("start-pod", help="start a stopped pod's APIs again")
    st.add_argument("name")
    sub.add_parser("restart-atoll", help="restart atoll-api and atoll-engine (after a code change)")
    sub.add_parser("memory", help="sum of RSS of the test bed's processes")
    args = parser.parse_args(argv)
    try:
        check_python()
        if args.cmd == "up":
            if args.pods is not None and args.pods < 1:
                parser.error("--pods must be >= 1")
            tb = Testbed.load(args.pods)
            tb.up(keystone_only=args.keystone_only, with_atoll=args.atoll)
            return 0
        tb = Testbed.load()
        if args.cmd == "down":
            tb.down()
        elif args.cmd == "status":
            return tb.status()
        elif args.cmd == "stop-pod":
            tb.stop_pod(args.name)
        elif args.cmd == "start-pod":
            tb.start_pod(args.name)
        elif args.cmd == "restart-atoll":
            tb.restart_atoll()
        elif args.cmd == "memory":
            n, kib = tb.memory()
            print(f"{n} processes, {kib} KiB RSS ({kib / 1048576:.2f} GiB)")
        return 0
    except TestbedError as exc:
        say(f"ERROR: {exc}")
        return 1
    except KeyboardInterrupt:
        say("interrupted; `scripts/testbed up` resumes, `down` cleans up")
        return 130


if __name__ == "__main__":
    sys.exit(main())
