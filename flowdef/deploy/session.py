"""What the deploy commands share: load + validate + compile the project, connect, and talk to the user."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from flowdef.errors import Reported, WorkspaceError
from flowdef.load.project import Project


def prepare(project: Project, command: str) -> list:
    """The [Desired] jobs of an opened project (validated, compiled).  When it cannot be deployed, says why and
    raises :class:`~flowdef.errors.Reported` (exit 1; ``cli.main`` catches it)."""
    from flowdef.compile import compiler
    from flowdef.deploy.engine import Desired
    from flowdef.diagnostics import format_text, has_errors, summary
    from flowdef.validate import validate_project

    config, target, proj = project.config, project.target, project.loaded
    diags = validate_project(proj, target)
    if has_errors(diags):
        errors = [d for d in diags if getattr(d, "severity", "error") == "error"] or list(diags)
        print(format_text(errors), file=sys.stderr)
        print(f"{command} stopped: {summary(diags)}; nothing was changed in the workspace", file=sys.stderr)
        raise Reported(1)
    permissions = getattr(compiler, "permissions", None)  # added by the task-kinds work; optional
    desired = []
    for job in sorted(proj.jobs, key=lambda j: j.key):
        try:
            compiled = compiler.compile_job(job, target, config)
            desired.append(Desired.of(compiled, permissions(job) if permissions is not None else None))
        except Exception as exc:  # noqa: BLE001 - e.g. a template that fails to render: one line, no traceback
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"error: compiling job {job.key} failed: {first}; nothing was changed in the workspace",
                  file=sys.stderr)
            raise Reported(1) from None
    return desired


def connect(target, args=None):
    from flowdef.deploy.client import Workspace

    return Workspace(host=target.host, profile=target.profile,
                     retry_timeout=getattr(args, "retry_timeout", None))


class Prefetch:
    """Connect and make the reads that need no compiled job (the manifest, the ``jobs/list`` pages) in a thread
    while the project is validated and compiled, so their round trips overlap that CPU work.  Read-only: if the
    project turns out to be invalid nothing has been changed.  :meth:`result` re-raises what went wrong."""

    def __init__(self, target, args, root: str) -> None:
        import threading

        self._done = threading.Event()
        self.ws: Any = None
        self.reads: Any = None
        self.error: BaseException | None = None
        self.abandoned = False
        threading.Thread(target=self._run, args=(target, args, root), name="flowdef-prefetch", daemon=True).start()

    def _run(self, target, args, root: str) -> None:
        try:
            self.ws = connect(target, args)
            if self.abandoned:
                self.ws.close()
            from flowdef.deploy.state import first_reads

            self.reads = first_reads(self.ws, root)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread by result()
            self.error = exc
        finally:
            self._done.set()

    def abandon(self) -> None:
        """Nobody will ask for the result (the project cannot be deployed): stop retrying in the background."""
        self.abandoned = True
        if self.ws is not None:
            self.ws.close()

    def result(self) -> tuple[Any, Any]:
        self._done.wait()
        if self.error is not None:
            raise self.error
        return self.ws, self.reads


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cancelled or timed-out CI job), raised in the main thread like Ctrl-C, so that ``with lock``
    blocks release the deploy lock on the way out."""


@contextlib.contextmanager
def terminate_as_interrupt():
    """While deploying, SIGTERM unwinds like SIGINT (the default action would kill the process with the lock
    held).  Only in the main thread: signal handlers cannot be installed elsewhere."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def break_lock_if_asked(ws, root: str, args) -> bool:
    """``--break-lock`` (stale locks only) / ``--force-break-lock`` (any, loudly); True when a lock was removed."""
    from flowdef.deploy.lock import break_lock

    force = bool(getattr(args, "force_break_lock", False))
    if not (getattr(args, "break_lock", False) or force):
        return False
    held = break_lock(ws, root, force=force)
    print(f"removed the deploy lock held by {held.describe()}" if held else "no deploy lock to remove",
          file=sys.stderr)
    return held is not None


def fail(exc: BaseException) -> int:
    """Print one clear line for a deploy failure; exit code 1."""
    from flowdef.deploy.client import describe
    from flowdef.deploy.mask import mask_message

    text = mask_message(str(exc)) if isinstance(exc, WorkspaceError) else describe(exc)
    print(f"error: {text}", file=sys.stderr)
    return 1


def confirm(question: str, yes: bool, refuse: str) -> bool | None:
    """True to go on; False if the user said no; None when there is no terminal to ask and no --yes."""
    if yes:
        return True
    if not sys.stdin.isatty():
        print(f"error: {refuse}", file=sys.stderr)
        return None
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")
