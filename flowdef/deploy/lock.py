"""The deploy lock: one workspace file, ``<root>/.flowdef/deploy.lock``, created with ``overwrite=False``.

Creating a workspace file that already exists fails with ``RESOURCE_ALREADY_EXISTS`` - an atomic test-and-set
the workspace gives us for free, so two ``apply`` runs of the same target cannot both hold the lock.  The file
holds who took it (user, host, pid, time, command and a random id).  Release deletes it only if the id is still
ours.  A lock older than :data:`STALE_AFTER` seconds is reported as stale with the command that breaks it
(``--break-lock``); it is never broken silently, since a slow deploy and a crashed one look alike from outside.

The lock is taken only when there is something to write: a no-op ``apply`` makes no write call at all.

``store`` is anything with ``read(path) -> bytes | None``, ``create(path, data) -> bool`` (False when the file
already exists), ``delete(path)``; :class:`flowdef.deploy.client.Workspace` is the real one.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time
import uuid
from datetime import datetime, timezone

import attrs

from flowdef.errors import WorkspaceError

STALE_AFTER = 30 * 60  # seconds


def lock_path(root: str) -> str:
    return f"{root}/.flowdef/deploy.lock"


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers (KeyError, OSError...)
        return os.environ.get("USER", "unknown")


@attrs.frozen
class LockInfo:
    id: str
    owner: str
    host: str
    pid: int
    created: float  # epoch seconds
    command: str = ""

    def to_json(self) -> bytes:
        return json.dumps(attrs.asdict(self), sort_keys=True).encode("utf-8")

    @classmethod
    def parse(cls, data: bytes | None) -> LockInfo | None:
        if data is None:
            return None
        try:
            raw = json.loads(data.decode("utf-8"))
            return cls(id=str(raw["id"]), owner=str(raw.get("owner", "?")), host=str(raw.get("host", "?")),
                       pid=int(raw.get("pid", 0)), created=float(raw.get("created", 0)),
                       command=str(raw.get("command", "")))
        except Exception:  # noqa: BLE001 - an unreadable lock is still a lock
            return cls(id="?", owner="?", host="?", pid=0, created=0.0)

    def describe(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        when = datetime.fromtimestamp(self.created, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        age = max(0, int(now - self.created))
        return f"{self.owner}@{self.host} pid {self.pid} ({self.command or 'deploy'}) since {when}, {_age(age)} ago"

    def stale(self, now: float | None = None, stale_after: float = STALE_AFTER) -> bool:
        now = time.time() if now is None else now
        return now - self.created > stale_after


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


class LockHeld(WorkspaceError):
    def __init__(self, path: str, info: LockInfo, stale: bool) -> None:
        hint = (f"it looks stale (older than {STALE_AFTER // 60} min): if that deploy is dead, rerun with "
                f"--break-lock" if stale else "wait for it to finish (or use --lock-timeout SECONDS to wait)")
        super().__init__(f"deploy lock {path} is held by {info.describe()}; {hint}")
        self.info = info
        self.stale = stale


class DeployLock:
    """``with DeployLock(store, root, command="apply"): ...`` - or ``acquire()`` / ``release()``."""

    def __init__(self, store, root: str, *, command: str = "apply", timeout: float = 0.0,
                 poll: float = 0.5, stale_after: float = STALE_AFTER) -> None:
        self.store = store
        self.path = lock_path(root)
        self.command = command
        self.timeout = timeout
        self.poll = poll
        self.stale_after = stale_after
        self.info: LockInfo | None = None

    def _new_info(self) -> LockInfo:
        return LockInfo(id=uuid.uuid4().hex, owner=_user(), host=socket.gethostname(), pid=os.getpid(),
                        created=time.time(), command=self.command)

    def acquire(self) -> LockInfo:
        deadline = time.monotonic() + self.timeout
        waited = False
        while True:
            info = self._new_info()
            if self.store.create(self.path, info.to_json()):
                self.info = info
                return info
            held = LockInfo.parse(self.store.read(self.path))
            if held is None:  # released between our create and our read: try again at once
                continue
            if held.id == info.id:  # our create went through but its answer was lost
                self.info = info
                return info
            if time.monotonic() >= deadline:
                raise LockHeld(self.path, held, held.stale(stale_after=self.stale_after))
            if not waited:
                waited = True
                import sys

                print(f"waiting up to {self.timeout:g}s for the deploy lock held by {held.describe()}",
                      file=sys.stderr, flush=True)
            time.sleep(self.poll)

    def release(self) -> None:
        if self.info is None:
            return
        current = LockInfo.parse(self.store.read(self.path))
        if current is not None and current.id == self.info.id:
            self.store.delete(self.path)
        self.info = None

    def __enter__(self) -> DeployLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.release()
        except Exception as err:  # noqa: BLE001 - never hide the deploy's own outcome behind this
            import sys

            print(f"warning: could not release the deploy lock {self.path} ({err.__class__.__name__}); "
                  f"the next deploy will report it: remove it with --break-lock", file=sys.stderr)


def break_lock(store, root: str) -> LockInfo | None:
    """Remove the lock whoever holds it; returns what it held (None: there was no lock)."""
    path = lock_path(root)
    held = LockInfo.parse(store.read(path))
    if held is not None:
        store.delete(path)
    return held
