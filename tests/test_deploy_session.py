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


# ------------------------------------------------------------------------------ the lock's owner check

LOCK = "/Shared/.flowdef/gen/prod/.flowdef/deploy.lock"


def _dead_pid() -> tuple[int, str]:
    import subprocess

    from flowdef.deploy.lock import process_start

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started = process_start(proc.pid)
    proc.kill()
    proc.wait()
    return proc.pid, started


def _lock(ws, **info) -> None:
    import json
    import socket
    import time

    body = {"id": "other", "owner": "ci", "host": socket.gethostname(), "created": time.time(), "command": "apply",
            "lease_until": time.time() + 100, **info}
    ws.write_file(LOCK, json.dumps(body).encode())


@pytest.mark.skipif(not Path("/proc/self/ns/pid").exists(), reason="needs Linux /proc")
def test_a_dead_pid_in_another_pid_namespace_with_the_same_host_name_is_not_called_dead(ws, cli, tmp_path):
    from flowdef.deploy.lock import machine_identity

    pid, started = _dead_pid()
    boot_id, _ = machine_identity()
    # another container: same host name and kernel, its own pid numbers - our "no such pid" says nothing about it
    _lock(ws, pid=pid, boot_id=boot_id, pid_ns="pid:[1]", started=started)
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 1
    assert "it is live: wait for that deploy" in cli.err and "is gone" not in cli.err
    assert cli(project, "apply", "--target", "prod", "--break-lock") == 1
    assert "refusing to break the deploy lock" in cli.err
    assert ws.state.jobs == {} and LOCK in ws.state.files


@pytest.mark.skipif(not Path("/proc/self/ns/pid").exists(), reason="needs Linux /proc")
def test_a_lock_without_the_process_table_identity_is_left_to_its_lease(ws, cli, tmp_path):
    pid, _ = _dead_pid()
    _lock(ws, pid=pid)  # an older flowdef's lock: host name and pid only
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod", "--break-lock") == 1
    assert "refusing to break the deploy lock" in cli.err and LOCK in ws.state.files


@pytest.mark.skipif(not Path("/proc/self/ns/pid").exists(), reason="needs Linux /proc")
def test_a_reused_pid_does_not_keep_a_dead_holders_lock_alive(ws, cli, tmp_path):
    import os

    from flowdef.deploy.lock import machine_identity, process_start

    boot_id, pid_ns = machine_identity()
    # the holder's pid now belongs to a live process (this one) that started at another time than the holder
    _lock(ws, pid=os.getpid(), boot_id=boot_id, pid_ns=pid_ns, started=str(int(process_start(os.getpid())) - 5))
    project = generated_project(tmp_path, 1)
    assert cli(project, "apply", "--target", "prod") == 1
    assert "the pid belongs to a newer process now" in cli.err and "--break-lock" in cli.err
    assert cli(project, "apply", "--target", "prod", "--break-lock") == 0, cli.err
    assert len(ws.state.jobs) == 1


@pytest.mark.skipif(not Path("/proc/self/ns/pid").exists(), reason="needs Linux /proc")
def test_the_lock_records_the_process_table_and_a_live_holder_is_never_dead(ws, tmp_path):
    import os

    from flowdef.deploy.client import Workspace
    from flowdef.deploy.lock import DeployLock, LockInfo, machine_identity, process_start

    with DeployLock(Workspace(), "/Workspace/Shared/.flowdef/gen/prod", folder_known=False):
        held = LockInfo.parse(ws.read_file(LOCK))
        assert held is not None
        assert (held.boot_id, held.pid_ns) == machine_identity() and held.started == process_start(os.getpid())
        assert held.owner_dead() is None and held.stale_reason() is None
    assert LOCK not in ws.state.files
