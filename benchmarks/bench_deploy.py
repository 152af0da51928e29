"""Deploy 50 generated jobs to the fake workspace with 20 ms latency per request: first apply, no-op apply,
a one-job change and a plan - wall time and request counts.

    python benchmarks/bench_deploy.py [--jobs 50] [--tasks 5] [--latency 0.02] [--runs 3] [--cold]

Everything runs through the CLI (``flowdef.cli.main``) in this process, so the SDK import (~1 s) is paid once,
in the first apply; ``--cold`` also times the no-op apply as a fresh ``python -m flowdef`` process.
The target: a no-op apply of 50 jobs under 1.5 s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "deploy"))

from support import generated_project, rewrite

from flowdef.cli import main as flowdef_main
from flowdef.testing import FakeWorkspace


def run(project: Path, *argv: str) -> tuple[int, float]:
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = flowdef_main(["-C", str(project), *argv])
    finally:
        os.chdir(cwd)
    elapsed = time.perf_counter() - start
    if rc != 0:
        raise SystemExit(f"flowdef {' '.join(argv)} failed ({rc}):\n{out.getvalue()}\n{err.getvalue()}")
    return rc, elapsed


def counts(ws) -> tuple[int, int, str]:
    reqs = ws.requests
    writes = ws.writes()
    by = Counter(f"{r.method} {r.path.rsplit('/', 2)[-2]}/{r.path.rsplit('/', 1)[-1]}" for r in reqs)
    top = ", ".join(f"{k} x{v}" for k, v in by.most_common(4))
    return len(reqs), len(writes), top


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--runs", type=int, default=3, help="no-op applies to time (median)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cold", action="store_true", help="also time a no-op apply as a fresh process")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="flowdef-bench-deploy-"))
    rows: list[tuple[str, float, int, int, str]] = []
    try:
        project = generated_project(tmp, args.jobs, n_tasks=args.tasks, project="bench", name="bench")
        with FakeWorkspace() as ws:
            saved = {k: os.environ.get(k) for k in (*ws.env(), "DATABRICKS_CONFIG_FILE")}
            os.environ.update(ws.env())
            os.environ["DATABRICKS_CONFIG_FILE"] = str(tmp / "no-databrickscfg")
            try:
                ws.faults.latency(args.latency)
                conc = ["--concurrency", str(args.concurrency)]

                ws.reset_log()
                _, t = run(project, "apply", "--target", "prod", *conc)
                rows.append(("first apply (incl. SDK import)", t, *counts(ws)))

                times = []
                for _ in range(args.runs):
                    ws.reset_log()
                    _, t = run(project, "apply", "--target", "prod", *conc)
                    times.append(t)
                assert not ws.writes(), "a no-op apply must not write"
                rows.append((f"no-op apply (median of {args.runs})", statistics.median(times), *counts(ws)))

                ws.reset_log()
                _, t = run(project, "plan", "--target", "prod")
                rows.append(("plan, no changes", t, *counts(ws)))

                rewrite(project, suffix="_v2")
                ws.reset_log()
                _, t = run(project, "apply", "--target", "prod", *conc)
                rows.append((f"rename all {args.jobs} jobs (reset)", t, *counts(ws)))

                if args.cold:
                    env = {**os.environ, "PYTHONPATH": str(REPO)}
                    ws.reset_log()
                    start = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "flowdef", "-C", str(project), "apply", "--target", "prod"],
                                   env=env, check=True, capture_output=True)
                    rows.append(("no-op apply, cold process", time.perf_counter() - start, *counts(ws)))
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"flowdef deploy: {args.jobs} jobs x {args.tasks} tasks, fake workspace, "
          f"{args.latency * 1000:.0f} ms per request, concurrency {args.concurrency}")
    print(f"{'step':<34} {'wall':>8} {'requests':>9} {'writes':>7}  busiest endpoints")
    for name, t, n, w, top in rows:
        print(f"{name:<34} {t:>7.3f}s {n:>9} {w:>7}  {top}")
    noop = rows[1][1]
    print(f"no-op apply target < 1.5 s: {'met' if noop < 1.5 else 'MISSED'} ({noop:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
