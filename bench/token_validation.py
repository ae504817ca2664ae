"""What does authenticating a request cost? atoll-api with its token cache, without it, and Keystone alone.

Starts two atoll-api processes on SQLite against the test bed's Keystone
(`scripts/testbed up --keystone-only` first), one with `token_cache_time = 300`
and one with `token_cache_time = 0`, and times the same authenticated call
(`GET /v1.0/routings`) against each, interleaved round by round, next to a
direct Keystone validation (`GET /v3/auth/tokens`). Prints medians and the
ratios of the medians. Not a test: it asserts nothing.

    .venv/bin/python bench/token_validation.py [--requests 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

import httpx

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.functional.conftest import AtollProcesses, keystone_token  # noqa: E402


def timed(client: httpx.Client, url: str, headers: dict[str, str], n: int) -> float:
    """Median seconds of n sequential requests."""
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append(time.perf_counter() - start)
        response.raise_for_status()
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    state_dir = pathlib.Path(os.environ.get("ATOLL_TESTBED_DIR") or ".testbed")
    state_dir = state_dir if state_dir.is_absolute() else ROOT / state_dir
    state = json.loads((state_dir / "testbed.json").read_text())
    auth_url, creds = state["auth_url"], state["credentials"]
    user = keystone_token(auth_url, creds["demo"])
    service = keystone_token(auth_url, creds["atoll"])
    with tempfile.TemporaryDirectory() as tmp:
        cached, uncached = (
            AtollProcesses(pathlib.Path(tmp, name), auth_url, creds["atoll"], token_cache_time=ttl, debug=False)
            for name, ttl in (("cached", 300), ("uncached", 0))
        )
        cached.start()
        uncached.start()
        try:
            results: dict[str, list[float]] = {"cached": [], "uncached": [], "keystone": []}
            with httpx.Client(timeout=30) as client:
                for _ in range(args.rounds):
                    headers = {"X-Auth-Token": user}
                    results["cached"].append(timed(client, cached.url + "/v1.0/routings", headers, args.requests))
                    results["uncached"].append(timed(client, uncached.url + "/v1.0/routings", headers, args.requests))
                    direct = {"X-Auth-Token": service, "X-Subject-Token": user}
                    results["keystone"].append(timed(client, auth_url + "/auth/tokens", direct, args.requests))
        finally:
            cached.stop()
            uncached.stop()
    medians = {name: statistics.median(values) for name, values in results.items()}
    print(f"{args.rounds} rounds x {args.requests} sequential requests, median latency per request:")
    for name, label in (
        ("cached", "atoll-api, token cache on"),
        ("uncached", "atoll-api, token cache off"),
        ("keystone", "Keystone token validation alone"),
    ):
        print(f"  {label:<34} {medians[name] * 1000:8.2f} ms")
    print(f"  ratio cache off / cache on:          {medians['uncached'] / medians['cached']:.2f}")
    print(f"  ratio cache on / Keystone alone:     {medians['cached'] / medians['keystone']:.2f}")


if __name__ == "__main__":
    main()
