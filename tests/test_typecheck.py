"""mypy runs over the package as part of the suite (architecture rule: a small, typed public surface)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_mypy_is_clean():
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "flowdef", "--ignore-missing-imports", "--no-error-summary"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_task_methods_shared_options_are_typed(tmp_path):
    """``**options: Unpack[...]``: type checkers (and IDEs) know each task method's options and their types."""
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")
    (tmp_path / "uses.py").write_text(
        "from flowdef import Environment, Job, Retry, RunIf\n"
        "job = Job('j')\n"
        "a = job.notebook('a', 'nb', compute=Environment('e'), values={'n': int}, retry=Retry(2))\n"
        "b = job.sql('b', 'b.sql', depends_on=[a], run_if=RunIf.ALL_DONE, timeout=60, disabled=True)\n"
        "job.dbt('c', 'dbt run', compute=Environment('e'), libraries=[], depends_on=b)\n"
        "job.for_each('d', inputs=['x']).python_file('e', 'e.py', compute=Environment('e'))\n"
        "@job.task(depends_on=[a], values=['m'])\n"
        "def f(ctx): ...\n"
        "job.sql('g', 'g.sql', compute=Environment('e'))\n"  # line 9: a SQL task takes no compute
        "job.notebook('h', 'nb', timeout='60')\n"  # line 10: timeout is an int
        "job.dbt('i', 'dbt run', values={'n': int})\n",  # line 11: dbt publishes no task values
        encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", str(tmp_path / "uses.py"), "--ignore-missing-imports", "--no-error-summary"],
        cwd=ROOT, capture_output=True, text=True,
    )
    lines = sorted({int(line.split(":")[1]) for line in done.stdout.splitlines() if ": error:" in line})
    assert lines == [9, 10, 11], done.stdout
