"""``validate`` / ``compile`` on several processes (flowdef.validate.parallel) say exactly what one process says.

The project mixes valid generated jobs with problems that only the rules across jobs see when the jobs sit in
different shares (a duplicate job name, a run-job task on a job of another share, a run-job cycle across shares),
problems of one module (an import error, a duplicate dict key, a bad reference), so every merge step is exercised.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.monorepo import write
from flowdef.diagnostics import has_errors
from flowdef.load.project import open_config
from flowdef.validate.parallel import MIN_SHARE, _split, check_project, processes_for
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork: Linux only")

EXTRA = {
    # a second job named like a generated one of another share: FD003
    "pipelines/zz/dup_name.py": '''
from flowdef import Job
job = Job("mono_job_000")
job.notebook("a", "/Workspace/Shared/x")
''',
    # run-job tasks across shares, closing a cycle a -> z -> a, and one on an unknown job: FD516
    "pipelines/aa/cycle_a.py": '''
from flowdef import Job
job = Job("cycle_a")
job.run_job("run_z", "cycle_z")
job.run_job("run_nowhere", "no_such_job")
''',
    "pipelines/zz/cycle_z.py": '''
from flowdef import Job
job = Job("cycle_z")
job.run_job("run_a", "cycle_a")
''',
    # one module's own problems: a duplicate dict key (FD605), an undeclared parameter (FD202)
    "pipelines/mm/own_problems.py": '''
from flowdef import Job
job = Job("own_problems", params={"a": "1", "a": "2"})
job.notebook("t", "/Workspace/Shared/x", params={"p": "{{job.parameters.nope}}"})
''',
    # a module that fails to import: FD001, the others still load
    "pipelines/mm/broken.py": '''
from flowdef import Job
job = Job("broken")
raise RuntimeError("boom")
''',
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = write(tmp_path_factory.mktemp("par") / "mono", 40, 6, 3)
    for rel, text in EXTRA.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text.lstrip())
    return root


def _check(project: Path, processes: int, compile: bool = False):
    config, target = open_config(project)
    return check_project(config, target, compile=compile, processes=processes)


def test_several_processes_report_exactly_what_one_does(project, monkeypatch):
    monkeypatch.setenv("FLOWDEF_NO_CACHE", "1")
    one = _check(project, 1)
    three = _check(project, 3)
    assert three.processes == 3 and one.processes == 1
    assert three.diagnostics == one.diagnostics
    assert (three.jobs, three.tasks) == (one.jobs, one.tasks)
    assert one.jobs == 40 + 4  # the generated jobs and the extra modules' (the broken module's job is not loaded)
    codes = {d.code for d in one.diagnostics}
    assert {"FD003", "FD516", "FD605", "FD202", "FD001"} <= codes
    cycle = [d for d in one.diagnostics if d.code == "FD516" and "cycle" in d.message]
    assert len(cycle) == 1 and "cycle_a" in cycle[0].message and "cycle_z" in cycle[0].message
    assert one.files is None and three.files is None  # compile was not asked


def test_compiled_files_are_identical_and_in_the_same_order(tmp_path):
    root = write(tmp_path / "mono", 30, 5, 3)
    one = _check(root, 1, compile=True)
    three = _check(root, 3, compile=True)
    assert one.diagnostics == three.diagnostics and not has_errors(one.diagnostics)
    assert one.files is not None and three.files is not None
    assert list(three.files.items()) == list(one.files.items())
    assert sum(1 for name in one.files if name.endswith(".json") and "/" not in name
               and not name.endswith(".deploy.json")) == 30
    # a project with an error anywhere compiles nothing, whichever process found it
    (root / "pipelines" / "zz").mkdir(parents=True)
    (root / "pipelines" / "zz" / "bad.py").write_text(EXTRA["pipelines/mm/own_problems.py"].lstrip())
    assert _check(root, 3, compile=True).files is None


def test_the_duplicate_key_cache_keeps_every_share(project, tmp_path, monkeypatch):
    monkeypatch.delenv("FLOWDEF_NO_CACHE", raising=False)

    def cached(processes: int, where: str) -> dict:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / where))
        _check(project, processes)
        (cache,) = (tmp_path / where / "flowdef" / "literals").glob("*.json")
        return json.loads(cache.read_text())["files"]

    three, one = cached(3, "three"), cached(1, "one")
    assert three == one  # every module of every share, not only this process's share
    assert len(one) == sum(1 for _ in (project / "pipelines").rglob("*.py")) - 1  # all but the broken module
    again = _check(project, 3)  # from the cache now: the same findings
    assert [d for d in again.diagnostics if d.code == "FD605"] == [
        d for d in _check(project, 1).diagnostics if d.code == "FD605"] != []


def test_a_worker_that_dies_is_an_error_that_says_how_to_go_on(project, monkeypatch):
    import flowdef.validate.parallel as parallel

    monkeypatch.setattr(parallel, "_worker", lambda send, *rest: os._exit(3))
    with pytest.raises(RuntimeError, match=r"exit code 3\).*FLOWDEF_WORKERS=1"):
        _check(project, 2)


def test_how_many_processes(monkeypatch, capsys):
    monkeypatch.delenv("FLOWDEF_WORKERS", raising=False)
    assert processes_for(MIN_SHARE - 1) == 1  # a small project: this process alone
    cores = len(os.sched_getaffinity(0))
    assert processes_for(MIN_SHARE * 100) == min(cores, 8)
    monkeypatch.setenv("FLOWDEF_WORKERS", "1")
    assert processes_for(10_000) == 1
    monkeypatch.setenv("FLOWDEF_WORKERS", "3")
    assert processes_for(2) == 2 and processes_for(100) == 3
    monkeypatch.setenv("FLOWDEF_WORKERS", "many")
    assert processes_for(MIN_SHARE - 1) == 1
    assert "FLOWDEF_WORKERS='many' is not a number of processes" in capsys.readouterr().err
    files = [Path(f"m{i}.py") for i in range(10)]
    shares = _split(files, 3)
    assert [len(s) for s in shares] == [4, 3, 3] and [f for s in shares for f in s] == files


def test_the_command_line_is_the_same_with_workers(project):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FLOWDEF_NO_CACHE": "1"}
    outs = []
    for workers in ("1", "3"):
        done = subprocess.run([sys.executable, "-m", "flowdef", "validate", "--format", "json"], cwd=project,
                              env={**env, "FLOWDEF_WORKERS": workers}, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1, done.stderr
        outs.append(done.stdout)
    assert outs[0] == outs[1] and json.loads(outs[0])
