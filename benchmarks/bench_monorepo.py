"""The scale target: cold ``python -m flowdef validate`` / ``compile`` of a real monorepo, and the example project.

    python benchmarks/bench_monorepo.py [--runs 7] [--jobs 500] [--tasks 20] [--templates 5]

Generates the monorepo of :mod:`benchmarks.monorepo` (500 jobs x 20 tasks in 500 modules, a quarter of the tasks
SQL on 5 shared templates) in a temporary folder, then times cold processes, interleaved so every command sees the
same machine state (medians):

- ``flowdef validate`` and ``flowdef compile`` on the monorepo (targets: <= 0.8 s and <= 1.5 s);
- ``flowdef validate`` on the example project vs the floor ``python -c "import networkx, attrs, jinja2"``
  (target: <= floor + 0.1 s).

Measured as a default install runs: with Python's bytecode cache (this sandbox sets PYTHONDONTWRITEBYTECODE=1;
it is unset here, as in bench_validate_cold.py) and flowdef's jinja2 bytecode cache; one warm-up run of each
command first writes both caches, as any second run of a user's CI would find them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.monorepo import write  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPATH"] = str(ROOT) + (os.pathsep + ENV["PYTHONPATH"] if ENV.get("PYTHONPATH") else "")


def once(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--templates", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowdef-monorepo-") as tmp:
        mono = write(Path(tmp) / "mono", args.jobs, args.tasks, args.templates)
        out = Path(tmp) / "build"
        py = sys.executable
        commands: dict[str, tuple[list[str], Path]] = {
            'floor: python -c "import networkx, attrs, jinja2"': ([py, "-c", "import networkx, attrs, jinja2"], ROOT),
            "example: flowdef validate": ([py, "-m", "flowdef", "validate"], ROOT),
            "monorepo: flowdef validate": ([py, "-m", "flowdef", "validate"], mono),
            "monorepo: flowdef compile": ([py, "-m", "flowdef", "compile", "--out", str(out)], mono),
        }
        for argv, cwd in commands.values():  # write the bytecode caches, warm the page cache
            once(argv, cwd)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (argv, cwd) in commands.items():
                times[name].append(once(argv, cwd))
    med = {name: statistics.median(values) for name, values in times.items()}
    print(f"cold processes, {args.runs} interleaved runs each; monorepo {args.jobs} jobs x {args.tasks} tasks, "
          f"{args.templates} shared templates ({sys.executable})")
    print(f"{'command':<52}{'min s':>8}{'median s':>10}{'max s':>8}")
    for name, values in times.items():
        print(f"{name:<52}{min(values):>8.3f}{med[name]:>10.3f}{max(values):>8.3f}")
    floor = med['floor: python -c "import networkx, attrs, jinja2"']
    print(f"monorepo validate {med['monorepo: flowdef validate']:.3f} s (target <= 0.8), "
          f"compile {med['monorepo: flowdef compile']:.3f} s (target <= 1.5); "
          f"example validate {med['example: flowdef validate'] - floor:+.3f} s above the floor (target <= +0.1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
