"""The live display of ``flowdef run`` on a real pseudo-terminal, and Ctrl-C asking whether to cancel."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "deploy"))
pytest_plugins = ["conftest_support"]  # the ws / cli fixtures

from test_operate import ops_project

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pty is POSIX-only")


class Terminal:
    """A child process on a pseudo-terminal (its controlling tty, so Ctrl-C is a real SIGINT)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            os.execvpe(argv[0], argv, env)
        self.output = b""
        self.status: int | None = None

    def read_until(self, needle: bytes, timeout: float = 60.0) -> bytes:
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {needle!r} in the terminal within {timeout}s: {self.output[-2000:]!r}")
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.5))
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                if not chunk:
                    break
                self.output += chunk
        return self.output

    def _drain(self) -> None:
        """What the child wrote before it ended (the terminal keeps it until read; EIO once empty)."""
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if not ready:
                return
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.read_until(b"\x00never\x00", timeout=0.2)
            except AssertionError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._drain()
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        raise AssertionError(f"the CLI did not end: {self.output[-2000:]!r}")


def _cli(project: Path) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), FLOWDEF_POLL_INTERVAL="0.05", TERM="xterm", LANG="C.UTF-8",
               PYTHONIOENCODING="utf-8")
    return [sys.executable, "-m", "flowdef", "-C", str(project), "run", "ops_demo"], env


def test_live_display_redraws_in_place_and_ends_with_a_summary(ws, cli, tmp_path):
    project = ops_project(tmp_path)
    assert cli(project, "apply") == 0
    ws.run_polls = 2
    argv, env = _cli(project)
    term = Terminal(argv, env)
    term.read_until(b"Run ")
    code = term.wait()
    text = term.output.decode("utf-8", "replace")
    assert code == 0, text
    assert "\x1b[" in text and "F\x1b[J" in text  # cursor back up + clear: redrawn in place, not appended
    frames = text.count("F\x1b[J")
    assert frames >= 5, frames  # one redraw per poll while the run moved through its steps
    assert "of ops_demo: RUNNING" in text and "▶ first" in text  # a frame while "first" ran
    assert "✔ first" in text and "– nothing_to_do" in text and "EXCLUDED" in text
    assert "0/3 iterations" in text and "2/3 iterations" in text and "3/3 iterations" in text  # concurrency 2
    assert "of ops_demo: SUCCESS" in text.split("F\x1b[J")[-1]


def test_ctrl_c_asks_and_cancels_the_run(ws, cli, tmp_path):
    project = ops_project(tmp_path)
    assert cli(project, "apply") == 0
    ws.run_polls = 100_000  # "first" runs until we interrupt
    argv, env = _cli(project)
    term = Terminal(argv, env)
    term.read_until(b"RUNNING")
    term.read_until(b"\xe2\x96\xb6 first")  # the display shows "first" running
    term.write(b"\x03")  # Ctrl-C on the terminal: SIGINT to the CLI
    term.read_until(b"Cancel run")
    ws.run_polls = 1  # the cleanup task, started after the cancel, ends at the next poll
    term.write(b"y\n")
    term.read_until(b"canceling run")
    code = term.wait()
    text = term.output.decode("utf-8", "replace")
    assert code == 1, text  # exit 0 only on SUCCESS
    tail = text.split("canceling run")[-1]
    assert ": CANCELED" in tail and "CANCELED          first" in tail and "UPSTREAM_CANCELED" in tail
    assert "SUCCESS           cleanup" in tail


def test_ctrl_c_answered_no_leaves_the_run_going(ws, cli, tmp_path):
    project = ops_project(tmp_path)
    assert cli(project, "apply") == 0
    ws.run_polls = 100_000
    argv, env = _cli(project)
    term = Terminal(argv, env)
    term.read_until(b"\xe2\x96\xb6 first")
    term.write(b"\x03")
    term.read_until(b"Cancel run")
    term.write(b"n\n")
    term.read_until(b"goes on")
    assert term.wait() == 130
    with ws.state.lock:
        [fr] = ws._runs.runs.values()
        assert not fr.finished and not fr.machine.canceled
