"""The local engine's numbers (issue 11): run from the repository root, ``python benchmarks/bench_local.py``.

1. both example jobs as cold ``python -m flowdef run ... --target local`` processes on the default generated data
   (target: under 3 s in total);
2. 200 no-op function tasks in a chain: engine overhead per task (target: under 5 ms);
3. three independent tasks sleeping 0.5 s each: wall time of the run (target: under 0.9 s);
4. the DuckDB path on 1 M generated claims: rows/s of the ingest (PySpark CSV read + saveAsTable) and the dedup
   (window function + saveAsTable + counts) tasks.

``--quick`` skips the 1 M-claim run; ``--claims N`` changes its size; ``--baseline CHECKOUT`` interleaves the cold
runs of another checkout (before/after); ``--only-cold`` stops after them.  Numbers depend on the machine's load: the
script prints the load average next to them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# the attempts' fork server is a fresh interpreter: it must import this checkout too, not an installed flowdef
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])

PROJECT_TOML = """
[tool.flowdef]
project = "bench"
pipelines = ["pipelines"]

[tool.flowdef.targets.local]
engine = "local"
data_dir = "data"
"""

CHAIN = """
from flowdef import Job

job = Job("chain", max_concurrent_runs=1)

def noop(ctx):
    pass

previous = None
for i in range({n}):
    options = {{"depends_on": [previous]}} if previous is not None else {{}}
    previous = job.task(key=f"t{{i:03d}}", **options)(noop)
"""

SLEEPS = """
from flowdef import Job

job = Job("sleeps")

def nap(ctx):
    import time
    time.sleep(0.5)

for key in ("a", "b", "c"):
    job.task(key=key)(nap)
"""


def _load() -> str:
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def _uptime_load() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def cold_example(repeats: int, roots: dict[str, Path] | None = None) -> dict[str, list[float]]:
    """Wall seconds of both example jobs as cold processes, per repeat (fresh workspace each time).

    ``roots`` maps a label to a checkout of flowdef; the repeats interleave them (A B A B ...), so a change in the
    machine's load hits every checkout alike.  Bytecode caching is left on (``PYTHONDONTWRITEBYTECODE`` unset), as
    in a default install; one unmeasured warm-up round per checkout writes the caches first."""
    roots = roots or {"this checkout": ROOT}
    totals: dict[str, list[float]] = {label: [] for label in roots}
    for round_no in range(repeats + 1):
        for label, root in roots.items():
            took = _cold_once(root)
            if round_no == 0:
                continue  # warm-up: .pyc files written, page cache filled
            totals[label].append(sum(took))
            print(f"  [{label}] cold example run: ingestion {took[0]:.2f} s + bronze->silver {took[1]:.2f} s = "
                  f"{sum(took):.2f} s (load {_uptime_load()})", flush=True)
    return totals


def _cold_once(root: Path) -> list[float]:
    work = Path(tempfile.mkdtemp(prefix="bench-local-"))
    try:
        shutil.copy(root / "pyproject.toml", work / "pyproject.toml")
        for folder in ("pipelines", "sql_templates"):
            shutil.copytree(root / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__"))
        env = dict(os.environ, PYTHONPATH=str(root))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([sys.executable, "-m", "flowdef.local.example_data"], cwd=work, env=env, check=True,
                       capture_output=True)
        took = []
        for job in ("smart_claims_ingestion", "smart_claims_bronze_to_silver"):
            start = time.perf_counter()
            # the clock stops when the output pipes close, i.e. when every process holding them has ended
            done = subprocess.run([sys.executable, "-m", "flowdef", "run", job, "--target", "local"], cwd=work,
                                  env=env, capture_output=True, text=True)
            took.append(time.perf_counter() - start)
            if done.returncode != 0:
                raise SystemExit(f"{job} failed:\n{done.stdout}\n{done.stderr}")
        return took
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _project(pipelines: dict[str, str]) -> tuple[Path, object]:
    from flowdef.load.project import open_project
    from flowdef.local.backend import LocalBackend

    work = Path(tempfile.mkdtemp(prefix="bench-local-"))
    (work / "pyproject.toml").write_text(PROJECT_TOML)
    (work / "pipelines").mkdir()
    for name, text in pipelines.items():
        (work / "pipelines" / f"{name}.py").write_text(text)
    os.chdir(work)
    project = open_project(work, target="local")
    return work, LocalBackend(project.config, project.target, project.loaded)


def chain(n: int) -> tuple[float, float]:
    """(seconds for the whole chain, seconds of the attempts' own work summed)."""
    work, backend = _project({"chain": CHAIN.format(n=n)})
    try:
        backend.run("chain")  # warm: fork server up, job compiled
        start = time.perf_counter()
        run_id, result = backend.run("chain")  # type: ignore[attr-defined]
        wall = time.perf_counter() - start
        assert result == "SUCCESS", [t for t in backend.status(run_id)["tasks"] if t["error"]][:1]  # type: ignore
        inside = 0.0
        for task in backend.status(run_id)["tasks"]:  # type: ignore[attr-defined]
            for a in backend.engine.records.attempts(run_id, task["task_key"]):  # type: ignore[attr-defined]
                inside += (a["end_ms"] - a["start_ms"]) / 1000
        return wall, inside
    finally:
        os.chdir(ROOT)
        shutil.rmtree(work, ignore_errors=True)


def sleeps() -> float:
    work, backend = _project({"sleeps": SLEEPS})
    try:
        backend.run("sleeps")  # type: ignore[attr-defined]
        start = time.perf_counter()
        _, result = backend.run("sleeps")  # type: ignore[attr-defined]
        assert result == "SUCCESS"
        return time.perf_counter() - start
    finally:
        os.chdir(ROOT)
        shutil.rmtree(work, ignore_errors=True)


def big(claims: int) -> None:
    import attrs

    from flowdef.load.config import load_config
    from flowdef.load.loader import load
    from flowdef.local.example_data import generate, landing_folder
    from flowdef.local.isolation import run_isolated
    from flowdef.local.project import attempt_request, prepare

    data = Path(tempfile.mkdtemp(prefix="bench-local-big-"))
    try:
        start = time.perf_counter()
        manifest = generate(landing_folder(data, "smart_claims_dev"), claims=claims)
        print(f"  generated {manifest.bronze_claims:,} claim rows in {time.perf_counter() - start:.1f} s", flush=True)
        config = load_config(ROOT)
        target = attrs.evolve(config.target("local"), data_dir=str(data))
        project = load(config)
        values: dict = {}
        for job_key, task_key in (("smart_claims_ingestion", "ingest_claims"),
                                  ("smart_claims_bronze_to_silver", "deduplicate_claims")):
            job = prepare(config, target, project.job(job_key))
            start = time.perf_counter()
            result = run_isolated(attempt_request(job, task_key, job.defaults(), values))
            took = time.perf_counter() - start
            assert result.state == "SUCCESS", result.error
            values[task_key] = result.task_values
            print(f"  {task_key}: {manifest.bronze_claims:,} rows in {took:.2f} s = "
                  f"{manifest.bronze_claims / took:,.0f} rows/s (load {_load()})", flush=True)
        assert values["deduplicate_claims"]["duplicate_rows_removed"] == manifest.duplicate_rows_removed
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", type=Path, metavar="CHECKOUT",
                        help="another flowdef checkout (e.g. a worktree of main) whose cold runs interleave with ours")
    parser.add_argument("--only-cold", action="store_true", help="only the cold example runs (1.)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {_uptime_load()} (1, 5, 15 min)")
    roots = {"this checkout": ROOT}
    if args.baseline:
        roots = {"baseline": args.baseline.resolve(), **roots}
    for label, totals in cold_example(args.repeats, roots).items():
        print(f"1. [{label}] both example jobs, cold processes: median {statistics.median(totals):.2f} s "
              f"(min {min(totals):.2f}, max {max(totals):.2f}, {len(totals)} interleaved runs; load average at the "
              f"end {_uptime_load()}) (target < 3 s)")
    if args.only_cold:
        return 0
    wall, inside = chain(200)
    print(f"2. 200 no-op function tasks in a chain: {wall:.2f} s, {wall / 200 * 1000:.1f} ms per task in total; "
          f"engine overhead (wall minus the attempts' own time) {(wall - inside) / 200 * 1000:.1f} ms per task; "
          f"attempt incl. its process {inside / 200 * 1000:.1f} ms (target < 5 ms)")
    print(f"3. three independent 0.5 s sleeps: {sleeps():.2f} s wall (target < 0.9 s)")
    if not args.quick:
        print(f"4. DuckDB path on {args.claims:,} generated claims:")
        big(args.claims)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
