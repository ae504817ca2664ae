"""What does merging pods' lists cost? atoll.listing's merge next to a plain sorted() of the union.

Pure CPU, no pods: 100 runs of 1000 servers each (random names, creation
times), already sorted as each pod's database would send them. Times, in the
same run and interleaved round by round:

- merge all:   `merge` of the 100 runs into one list of 100,000 (keys computed as it goes);
- sorted all:  `sorted` of the 100,000 with the same key function;
- page:        one page of 1000 as `Pager.page` makes it from 100 in-memory pods that
               answer 1001 items each (fan-out, key of every head, merge, next marker);
- page sorted: sorted() of those 100 x 1001 answered items, then the first 1000;
- keys:        the key function alone over the 100,000 items,

for the default server order (created_at desc, uuid asc) and for
``display_name asc`` (MariaDB general_ci folding). Prints medians and ratios.
Not a test: it asserts nothing.

    .venv/bin/python bench/listing_merge.py [--pods 100] [--items 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import pathlib
import random
import statistics
import string
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from atoll.listing.declared import SERVERS  # noqa: E402
from atoll.listing.merge import Run, merge  # noqa: E402
from atoll.listing.pager import Pager, PodAnswer, PodQuery  # noqa: E402
from atoll.listing.parsing import parse  # noqa: E402
from atoll.listing.spec import SortSpec  # noqa: E402

Item = dict[str, Any]


def servers(rng: random.Random, count: int) -> list[Item]:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    made = []
    for _ in range(count):
        name = rng.choice(["web", "Web", "db", "cache", "worker"]) + "-" + "".join(rng.choices(string.digits, k=4))
        created = start + dt.timedelta(seconds=rng.randint(0, 10**7))
        made.append(
            {"id": str(uuid.UUID(int=rng.getrandbits(128))), "name": name, "created": f"{created:%Y-%m-%dT%H:%M:%SZ}"}
        )
    return made


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(spec: SortSpec, runs: list[list[Item]], rounds: int) -> dict[str, float]:
    key = spec.item_key()
    sources = [Run(f"Pod{i}", items, more=False) for i, items in enumerate(runs)]
    union = [item for items in runs for item in items]
    page_size = len(runs[0])
    answers = {f"Pod{i}": items[: page_size + 1] for i, items in enumerate(runs)}
    answered = [item for items in answers.values() for item in items]

    async def fetch(pod: str, query: PodQuery) -> PodAnswer:
        return PodAnswer(answers[pod][: query.limit], more=True)

    pager = Pager(fetch, timeout=60, pod_max_limit=page_size + 1)

    def one_page() -> None:
        asyncio.run(pager.page(list(answers), spec, page_size))

    cases: dict[str, Callable[[], object]] = {
        "merge all": lambda: merge(sources, len(union), key),
        "sorted all": lambda: sorted(union, key=key),
        "page": one_page,
        "page sorted": lambda: sorted(answered, key=key)[:page_size],
        "keys": lambda: [key(item) for item in union],
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, action in cases.items():
            samples[name].append(timed(action))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(1)  # noqa: S311 (test data, not secrets)
    specs = {
        "created_at desc, uuid asc": parse(SERVERS, [], max_limit=1000).spec,
        "display_name asc (general_ci)": parse(
            SERVERS, [("sort_key", "display_name"), ("sort_dir", "asc")], max_limit=1000
        ).spec,
    }
    pods = [servers(rng, args.items) for _ in range(args.pods)]
    print(f"{args.pods} pods x {args.items} servers, median of {args.rounds} rounds")
    for label, spec in specs.items():
        key = spec.item_key()
        runs = [sorted(items, key=key) for items in pods]
        result = measure(spec, runs, args.rounds)
        print(f"\n{label}:")
        for name, seconds in result.items():
            print(f"  {name:<12} {seconds * 1000:9.1f} ms")
        print(f"  merge all / sorted all   = {result['merge all'] / result['sorted all']:.2f}")
        print(f"  page / page sorted       = {result['page'] / result['page sorted']:.3f}")
        print(f"  keys / sorted all        = {result['keys'] / result['sorted all']:.2f}")


if __name__ == "__main__":
    main()
