"""Quartz: parsing an expression and previewing its next fire times, in process (the validate path parses every
schedule; `flowdef cron` / `explain` preview them).  Sparse schedules (29 February, the fifth Friday, the last
weekday) must not make the preview search slow.

    python benchmarks/bench_quartz.py [--runs 7]

Prints the median and the spread over ``--runs`` repeats of 20 calls each, per expression.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flowdef.quartz import parse  # noqa: E402

CASES = [
    ("0 30 2 ? * MON-FRI", "America/Sao_Paulo"), ("0 0 0 29 2 ? *", "UTC"),
    ("0 0 0 ? * 6#5", "America/New_York"), ("0 0 0 31 * ?", "Europe/Berlin"), ("0 0 0 LW * ?", "Australia/Lord_Howe"),
]


def per_call(fn, runs: int, number: int = 20) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        out.append((time.perf_counter() - start) / number * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    after = dt.datetime(2026, 11, 26, 10, tzinfo=dt.timezone.utc)
    print(f"{'expression':<22}{'zone':<22}{'parse ms (median, min-max)':>30}{'next 5 ms (median, min-max)':>30}")
    for expr, zone in CASES:
        parsed = parse(expr)
        parsed.next_fire_times(after, zone, 5)  # the zone's rules, loaded once per process
        p = per_call(lambda: parse(expr), args.runs)
        n = per_call(lambda: parsed.next_fire_times(after, zone, 5), args.runs)
        print(f"{expr:<22}{zone:<22}{statistics.median(p):>12.3f} ({min(p):.3f}-{max(p):.3f}){'':>4}"
              f"{statistics.median(n):>12.3f} ({min(n):.3f}-{max(n):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
