"""The scale target: cold ``python -m flowdef validate`` / ``compile`` of a real monorepo, and the example project.

    python benchmarks/bench_monorepo.py [--runs 7] [--jobs 500] [--tasks 20] [--templates 5] [--baseline DIR]

Generates the monorepo of :mod:`benchmarks.monorepo` (500 jobs x 20 tasks in 500 modules, a quarter of the tasks
SQL on 5 shared templates) in a temporary folder, then times cold processes, interleaved so every command sees the
same machine state (medians):

- ``flowdef validate`` and ``flowdef compile`` on the monorepo (targets: <= 0.8 s and <= 1.5 s), as a user runs
  them (on every core: flowdef.validate.parallel) and in one process (``FLOWDEF_WORKERS=1``);
- ``flowdef validate`` on the example project vs the floor ``python -c "import networkx, attrs, jinja2"``
  (target: <= floor + 0.1 s).

Measured as a default install runs: with Python's bytecode cache (this sandbox sets PYTHONDONTWRITEBYTECODE=1;
it is unset here, as in bench_validate_cold.py) and flowdef's jinja2 bytecode cache; one warm-up run of each
command first writes both caches, as any second run of a user's CI would find them.  Besides wall time, the CPU
time (user + system) of each process is reported: on a shared machine it moves far less than wall time.

``--baseline DIR`` also times the monorepo commands with another flowdef source tree (e.g. an older commit:
``git worktree add /tmp/base <commit>``), interleaved with this one, for a before/after on the same machine state.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
py = sys.executable

from benchmarks.monorepo import write  # noqa: E402

BASE_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}


def env_for(tree: Path) -> dict[str, str]:
    return {**BASE_ENV, "PYTHONPATH": str(tree)}


def once(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--templates", type=int, default=5)
    parser.add_argument("--baseline", type=Path, default=None, help="another flowdef source tree to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowdef-monorepo-") as tmp:
        mono = write(Path(tmp) / "mono", args.jobs, args.tasks, args.templates)
        out = Path(tmp) / "build"
        here = env_for(ROOT)
        commands: dict[str, tuple[list[str], Path, dict[str, str]]] = {
            'floor: python -c "import networkx, attrs, jinja2"': (
                [py, "-c", "import networkx, attrs, jinja2"], ROOT, here),
            "example: flowdef validate": ([py, "-m", "flowdef", "validate"], ROOT, here),
            "monorepo: flowdef validate": ([py, "-m", "flowdef", "validate"], mono, here),
            "monorepo: flowdef compile": ([py, "-m", "flowdef", "compile", "--out", str(out)], mono, here),
            # the same in one process (FLOWDEF_WORKERS=1): what a one-core machine sees, and the CPU cost alone
            "monorepo, one process: flowdef validate": (
                [py, "-m", "flowdef", "validate"], mono, {**here, "FLOWDEF_WORKERS": "1"}),
            "monorepo, one process: flowdef compile": (
                [py, "-m", "flowdef", "compile", "--out", str(Path(tmp) / "build1")], mono,
                {**here, "FLOWDEF_WORKERS": "1"}),
        }
        if args.baseline is not None:
            base = env_for(args.baseline.resolve())
            commands["baseline monorepo: flowdef validate"] = ([py, "-m", "flowdef", "validate"], mono, base)
            commands["baseline monorepo: flowdef compile"] = (
                [py, "-m", "flowdef", "compile", "--out", str(Path(tmp) / "build_base")], mono, base)
            commands["baseline example: flowdef validate"] = ([py, "-m", "flowdef", "validate"], ROOT, base)
        for argv, cwd, env in commands.values():  # write the bytecode caches, warm the page cache
            once(argv, cwd, env)
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (argv, cwd, env) in commands.items():
                wall, cpu = once(argv, cwd, env)
                walls[name].append(wall)
                cpus[name].append(cpu)
    med = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    print(f"cold processes, {args.runs} interleaved runs each; monorepo {args.jobs} jobs x {args.tasks} tasks, "
          f"{args.templates} shared templates ({sys.executable}; load average {os.getloadavg()[0]:.1f})")
    print(f"cores available: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}")
    print(f"{'command':<52}{'wall min':>9}{'median':>8}{'max':>7}{'cpu median':>12}")
    for name, values in walls.items():
        print(f"{name:<52}{min(values):>9.3f}{med[name]:>8.3f}{max(values):>7.3f}{cpu[name]:>12.3f}")
    floor = 'floor: python -c "import networkx, attrs, jinja2"'
    print(f"monorepo validate {med['monorepo: flowdef validate']:.3f} s wall / {cpu['monorepo: flowdef validate']:.3f} s "
          f"CPU (target <= 0.8), compile {med['monorepo: flowdef compile']:.3f} s / "
          f"{cpu['monorepo: flowdef compile']:.3f} s (target <= 1.5); example validate "
          f"{med['example: flowdef validate'] - med[floor]:+.3f} s wall / "
          f"{cpu['example: flowdef validate'] - cpu[floor]:+.3f} s CPU above the floor (target <= +0.1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
