"""The deploy commands' shared prologue and the deploy lock's owner check, against the fake workspace through the
real databricks-sdk client."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "deploy"))
pytest_plugins = ["conftest_support"]  # the ws / cli fixtures

from support import generated_project

from flowdef.errors import Reported

BROKEN = '''
_bad = Job("broken_job", key="broken_job")
_bad.notebook("report", "/Workspace/Shared/nb", depends_on=["lod"])
'''


@pytest.mark.parametrize("argv", [("plan",), ("apply",), ("bind", "broken_job", "1001", "--yes")])
def test_an_invalid_project_stops_every_deploy_command_before_any_write(ws, cli, tmp_path, argv):
    project = generated_project(tmp_path, 2)
    with open(project / "pipelines" / "jobs.py", "a") as fh:
        fh.write(BROKEN)
    assert cli(project, *argv, "--target", "prod") == 1
    assert "FD103" in cli.err and f"{argv[0]} stopped:" in cli.err
    assert "nothing was changed in the workspace" in cli.err
    assert "error: exit" not in cli.err and "Traceback" not in cli.err  # explained once, by prepare
    assert ws.writes() == []


def test_prepare_raises_reported_instead_of_returning_an_exit_code(ws, tmp_path, monkeypatch, capsys):
    from flowdef.deploy.session import prepare
    from flowdef.load.project import open_project

    project = generated_project(tmp_path, 1)
    monkeypatch.chdir(project)
    assert [d.key for d in prepare(open_project(project, target="prod"), "plan")] == ["gen_job_000"]
    with open(project / "pipelines" / "jobs.py", "a") as fh:
        fh.write(BROKEN)
    with pytest.raises(Reported) as caught:
        prepare(open_project(project, target="prod"), "plan")
    assert caught.value.code == 1 and "FD103" in capsys.readouterr().err
