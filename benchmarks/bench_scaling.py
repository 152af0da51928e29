"""Validation scaling: a 1,000-task and a 10,000-task synthetic job, validated in-process.

The rules must stay linear: validating 10x the tasks may cost at most ~12x the time.  The job is the peers'
benchmark shape (``/work/shared/docs/peers.md``): half a chain, then a fan-out from the chain's end, one
parameter per task; every tenth task also reads a task value of an ancestor, so the reference rules and the
ancestry bitsets are exercised.  The 10,000-task job is over the Jobs API's 1,000-task limit, so it reports
exactly one FD106; everything else about it is valid.

Run: ``python benchmarks/bench_scaling.py [--runs 7]``.  Prints median times (ms) and the ratio; also the
whole build + validate + compile time of the 1,000-task job.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flowdef import Job  # noqa: E402
from flowdef.load.config import ProjectConfig, Target  # noqa: E402
from flowdef.load.loader import LoadedProject  # noqa: E402


def build(n: int) -> Job:
    job = Job(f"bench_{n}", params={"catalog": "main", "ids": "[1,2,3]"})
    chain = n // 2
    prev = None
    for i in range(n):
        depends = [prev] if prev is not None else None
        params = {"catalog": job.params.catalog}
        if i % 10 == 9 and prev is not None:
            params["rows"] = prev.values.rows
        handle = job.notebook(
            f"t{i:05d}", "/Workspace/Shared/nb", params=params, depends_on=depends, values={"rows": int},
        )
        if i < chain:
            prev = handle
    return job


def project_of(job: Job) -> tuple[LoadedProject, Target]:
    target = Target("dev", root_path="/Workspace/Shared/.flowdef/bench/dev", warehouse_id="wh")
    config = ProjectConfig(root=Path.cwd(), project="bench", targets=(target,))
    return LoadedProject(config=config, jobs=(job.to_model("bench"),), diagnostics=()), target


def time_validate(sizes: tuple[int, ...], runs: int) -> tuple[dict[int, float], dict[int, list]]:
    """Median validate time (ms) per size.  The sizes are measured in turns (1k, 10k, 1k, 10k, ...) after a
    garbage collection, so that a busy machine slows both alike and the ratio stays meaningful."""
    from flowdef.validate import validate_project

    projects = {n: project_of(build(n)) for n in sizes}
    diags = {n: validate_project(*projects[n]) for n in sizes}  # warm-up (lazy imports, caches)
    samples: dict[int, list[float]] = {n: [] for n in sizes}
    for _ in range(runs):
        for n in sizes:
            gc.collect()
            start = time.perf_counter()
            validate_project(*projects[n])
            samples[n].append(time.perf_counter() - start)
    return {n: statistics.median(v) * 1000 for n, v in samples.items()}, diags


def time_pipeline(n: int, runs: int) -> float:
    from flowdef.compile.compiler import payload
    from flowdef.validate import validate_project

    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        proj, target = project_of(build(n))
        validate_project(proj, target)
        payload(proj.jobs[0], target, proj.config)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--curve", action="store_true",
                        help="also print the cost per task from 500 to 20,000 tasks (is it flat? then it is linear)")
    args = parser.parse_args(argv)
    times, diags = time_validate((1000, 10_000), args.runs)
    small, big = times[1000], times[10_000]
    assert not diags[1000], diags[1000]
    assert [d.code for d in diags[10_000]] == ["FD106"], [d.code for d in diags[10_000]][:5]
    whole = time_pipeline(1000, args.runs)
    print(f"validate  1,000 tasks: {small:8.2f} ms (median of {args.runs})")
    print(f"validate 10,000 tasks: {big:8.2f} ms (median of {args.runs})")
    print(f"ratio 10k / 1k:        {big / small:8.2f}x (linear = 10x; budget 12x)")
    print(f"build + validate + compile, 1,000 tasks: {whole:.2f} ms")
    if args.curve:
        sizes = (500, 1000, 2000, 5000, 10_000, 20_000)
        curve, _ = time_validate(sizes, args.runs)
        print("tasks    validate ms   us per task")
        for n in sizes:
            print(f"{n:>6,} {curve[n]:>12.2f} {curve[n] * 1000 / n:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
