"""1000-task job, in process: flowdef build + validate + compile + to_json vs databricks-bundles build + as_dict.

    python benchmarks/bench_build.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.synthetic import build_validate_compile, bundles_as_dict  # noqa: E402


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    try:
        import databricks.bundles.jobs  # noqa: F401
    except ImportError:
        print("databricks-bundles is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    build_validate_compile()  # warm imports (networkx, attrs classes) for both sides
    bundles_as_dict()
    ours, theirs = [], []
    for _ in range(args.runs):  # interleaved so both see the same machine state
        ours += timed(build_validate_compile, 1)
        theirs += timed(bundles_as_dict, 1)
    m_ours, m_theirs = statistics.median(ours), statistics.median(theirs)
    print("1000-task job (500 chain + 500 fan-out, one parameter each), in process, median of", args.runs)
    print(f"{'tool':<58}{'min ms':>9}{'median ms':>11}{'max ms':>9}")
    rows = [
        ("flowdef: build + validate + compile + to_json (the file)", ours),
        ("databricks-bundles: build + as_dict (no validation)", theirs),
    ]
    for name, values in rows:
        print(f"{name:<58}{min(values) * 1e3:>9.2f}{statistics.median(values) * 1e3:>11.2f}{max(values) * 1e3:>9.2f}")
    print(f"speed-up: {m_theirs / m_ours:.1f}x (target: >= 5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
