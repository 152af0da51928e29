"""The deploy lock: one workspace file, ``<root>/.flowdef/deploy.lock``, created with ``overwrite=False``.

Creating a workspace file that already exists fails with ``RESOURCE_ALREADY_EXISTS`` - an atomic test-and-set
the workspace gives us for free, so two ``apply`` runs of the same target cannot both hold the lock.  The file
holds who took it (user, host, pid, command, a random id) and a *lease*: the time until which the holder promises
to be alive.  While the lock is held a thread renews the lease every :data:`LEASE` / 3 seconds (re-reading the file
first: a lock that is no longer ours is never overwritten, and the apply is told it lost it).  Release deletes the
file only if the id is still ours; SIGTERM and SIGINT release it (the CLI turns SIGTERM into an exception).

A held lock is *stale* when its lease ran out (the holder stopped renewing: killed, or its machine is gone), or
when its holder is provably dead.  A host name alone proves nothing (two containers can share one, each with its
own pid numbers), so the lock also records the kernel's boot id, the holder's pid namespace and the start time of
its process (Linux ``/proc``): the holder is dead only when all three say "this machine, this process table" and
its pid is gone or now belongs to a process that started at another time (a reused pid).  Where they cannot be
read (another OS, a lock of an older flowdef) nobody is judged dead: the lease decides.  ``--break-lock``
removes only a stale lock; a live one is refused with who holds it, unless ``--force-break-lock`` (a loud
warning: two applies may then write at once).  A lock written by an older flowdef (no lease) is stale after
:data:`STALE_AFTER` seconds.

The lock is taken only when there is something to write: a no-op ``apply`` makes no write call at all.

``store`` is anything with ``read(path) -> bytes | None``, ``create(path, data) -> bool`` (False when the file
already exists), ``write(path, data)`` and ``delete(path)``; :class:`flowdef.deploy.client.Workspace` is the real one.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
import threading
import time
import uuid
from datetime import datetime, timezone

import attrs

from flowdef.errors import WorkspaceError

STALE_AFTER = 30 * 60  # seconds: locks without a lease (older flowdef)
LEASE = 120.0  # seconds a lock stays live without renewal; renewed every LEASE / 3


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def machine_identity() -> tuple[str, str]:
    """``(boot id, pid namespace)``: which process table a pid belongs to - the same kernel since its last boot,
    and the same pid namespace in it (containers sharing a host name differ here).  Empty where unknown."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return _read("/proc/sys/kernel/random/boot_id"), namespace


def process_start(pid: int) -> str:
    """When process ``pid`` started (clock ticks after boot, ``/proc/<pid>/stat`` field 22); "" when there is no
    such process or it cannot be told."""
    text = _read(f"/proc/{pid}/stat")
    fields = text.rsplit(")", 1)[-1].split()  # the command name, in parentheses, may hold spaces
    return fields[19] if len(fields) > 19 else ""


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
    lease_until: float = 0.0  # epoch seconds; 0: a lock without a lease (older flowdef)
    boot_id: str = ""  # the holder's process table: kernel boot id and pid namespace (see machine_identity)
    pid_ns: str = ""
    started: str = ""  # the holder process's start time (process_start), to tell a reused pid

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
                       command=str(raw.get("command", "")), lease_until=float(raw.get("lease_until", 0) or 0),
                       boot_id=str(raw.get("boot_id", "")), pid_ns=str(raw.get("pid_ns", "")),
                       started=str(raw.get("started", "")))
        except Exception:  # noqa: BLE001 - an unreadable lock is still a lock
            return cls(id="?", owner="?", host="?", pid=0, created=0.0)

    def describe(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        when = datetime.fromtimestamp(self.created, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        age = max(0, int(now - self.created))
        text = f"{self.owner}@{self.host} pid {self.pid} ({self.command or 'deploy'}) since {when}, {_age(age)} ago"
        if self.lease_until:
            left = int(self.lease_until - now)
            text += f", lease {'ends in ' + _age(left) if left >= 0 else 'ran out ' + _age(-left) + ' ago'}"
        return text

    def owner_dead(self) -> str | None:
        """Why the holder is provably dead (None: it may be alive): taken in this very process table (host name,
        boot id and pid namespace all match) by a process that no longer exists, or whose pid another process
        has taken since."""
        if self.host != socket.gethostname() or self.pid <= 0:
            return None
        boot_id, pid_ns = machine_identity()
        if not (self.boot_id and self.pid_ns and boot_id and pid_ns) or (self.boot_id, self.pid_ns) != (boot_id,
                                                                                                      pid_ns):
            return None  # another container (or an older lock): the pid means nothing here
        now = process_start(self.pid)
        if not now:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return f"its process (pid {self.pid} on {self.host}) is gone"
            except OSError:  # PermissionError: it exists, owned by someone else
                return None
            return None
        if self.started and now != self.started:
            return f"its process (pid {self.pid} on {self.host}) is gone; the pid belongs to a newer process now"
        return None

    def stale_reason(self, now: float | None = None, stale_after: float = STALE_AFTER) -> str | None:
        """Why this lock is stale (None: it is live)."""
        now = time.time() if now is None else now
        dead = self.owner_dead()
        if dead:
            return dead
        if self.lease_until:
            if now > self.lease_until:
                return f"its lease ran out {_age(int(now - self.lease_until))} ago (the holder stopped renewing it)"
            return None
        if now - self.created > stale_after:
            return f"it is older than {int(stale_after // 60)} min and has no lease"
        return None

    def stale(self, now: float | None = None, stale_after: float = STALE_AFTER) -> bool:
        return self.stale_reason(now, stale_after) is not None


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


class LockHeld(WorkspaceError):
    def __init__(self, path: str, info: LockInfo, stale: bool | str | None) -> None:
        reason = stale if isinstance(stale, str) else ("it looks stale" if stale else None)
        hint = (f"it is stale ({reason}): rerun with --break-lock to remove it" if reason else
                "it is live: wait for that deploy to finish (or use --lock-timeout SECONDS to wait for it)")
        super().__init__(f"deploy lock {path} is held by {info.describe()}; {hint}")
        self.info = info
        self.stale = bool(reason)


class LockLost(WorkspaceError):
    """The lock this apply held was removed or taken over by someone else."""


class DeployLock:
    """``with DeployLock(store, root, command="apply"): ...`` - or ``acquire()`` / ``release()``."""

    def __init__(self, store, root: str, *, command: str = "apply", timeout: float = 0.0,
                 poll: float = 0.5, stale_after: float = STALE_AFTER, lease: float = LEASE,
                 folder_known: bool = True, stream=None) -> None:
        """``folder_known``: False when ``<root>/.flowdef`` may not exist yet (no manifest was found): it is
        created first instead of after a failed import (one round trip instead of three)."""
        self.store = store
        self.path = lock_path(root)
        self.command = command
        self.timeout = timeout
        self.poll = poll
        self.stale_after = stale_after
        self.lease = lease
        self.folder_known = folder_known
        self.stream = stream
        self.info: LockInfo | None = None
        self.contended = False  # someone else held the lock when we first asked: re-read everything
        self.lost: str | None = None  # set by the renewer when the lock is no longer ours
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._confirmed = False

    def _new_info(self) -> LockInfo:
        now = time.time()
        boot_id, pid_ns = machine_identity()
        return LockInfo(id=uuid.uuid4().hex, owner=_user(), host=socket.gethostname(), pid=os.getpid(),
                        created=now, command=self.command, lease_until=now + self.lease, boot_id=boot_id,
                        pid_ns=pid_ns, started=process_start(os.getpid()))

    def _say(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)

    def acquire(self) -> LockInfo:
        deadline = time.monotonic() + self.timeout
        waited = False
        if not self.folder_known:
            self.store.mkdirs(self.path.rsplit("/", 1)[0])
        while True:
            info = self._new_info()
            if self.store.create(self.path, info.to_json()):
                self.info = info
                self._start_renewer()
                return info
            self.contended = True
            held = LockInfo.parse(self.store.read(self.path))
            if held is None:  # released between our create and our read: try again at once
                continue
            if held.id == info.id:  # our create went through but its answer was lost
                self.info = info
                self._start_renewer()
                return info
            if time.monotonic() >= deadline:
                raise LockHeld(self.path, held, held.stale_reason(stale_after=self.stale_after))
            if not waited:
                waited = True
                self._say(f"waiting up to {self.timeout:g}s for the deploy lock held by {held.describe()}")
            time.sleep(self.poll)

    # ------------------------------------------------------------------------------------------- lease

    def _start_renewer(self) -> None:
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_loop, name="flowdef-lock-lease", daemon=True)
        self._renewer.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.lease / 3):
            try:
                self.renew()
            except LockLost as exc:
                self.lost = str(exc)
                self._say(f"error: {exc}")
                return
            except Exception as exc:  # noqa: BLE001 - try again at the next tick; the lease has slack
                self._say(f"warning: could not renew the deploy lock lease ({type(exc).__name__}); retrying")

    def renew(self) -> None:
        """Extend the lease, if the lock is still ours (LockLost otherwise)."""
        if self.info is None:
            return
        current = LockInfo.parse(self.store.read(self.path))
        if current is None or current.id != self.info.id:
            who = f"now held by {current.describe()}" if current else "it was removed"
            raise LockLost(f"the deploy lock {self.path} is no longer ours ({who}); stopping before writing more")
        self.info = attrs.evolve(self.info, lease_until=time.time() + self.lease)
        self.store.write(self.path, self.info.to_json())

    def check(self) -> None:
        """Raise LockLost when the renewer found the lock taken away."""
        if self.lost:
            raise LockLost(self.lost)

    def confirm(self) -> bool:
        """Read the lock now and remember whether it is still ours: release then deletes it without reading it
        again (the apply runs this in the same wave as its last write)."""
        current = LockInfo.parse(self.store.read(self.path))
        self._confirmed = self.info is not None and current is not None and current.id == self.info.id
        return self._confirmed

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None and self._renewer is not threading.current_thread():
            self._renewer.join(timeout=5)
        self._renewer = None
        if self.info is None:
            return
        if not self._confirmed:
            self.confirm()
        if self._confirmed:
            self.store.delete(self.path)
        self.info = None
        self._confirmed = False

    def __enter__(self) -> DeployLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.release()
        except BaseException as err:  # noqa: BLE001 - never hide the deploy's own outcome behind this
            self._say(f"warning: could not release the deploy lock {self.path} ({err.__class__.__name__}); "
                      f"its lease runs out in {self.lease:g}s, after which --break-lock removes it")


def break_lock(store, root: str, *, force: bool = False, stale_after: float = STALE_AFTER,
               stream=None) -> LockInfo | None:
    """Remove the lock if it is stale - or whoever holds it with ``force`` (loudly).  Returns what it held
    (None: there was no lock); :class:`LockHeld` when it is live and ``force`` is not set."""
    path = lock_path(root)
    held = LockInfo.parse(store.read(path))
    if held is None:
        return None
    reason = held.stale_reason(stale_after=stale_after)
    if reason is None and not force:
        raise WorkspaceError(f"refusing to break the deploy lock {path}: it is live (held by {held.describe()}); "
                             f"wait for that deploy, or if you are sure it is dead, --force-break-lock")
    if reason is None:
        print(f"WARNING: force-breaking a LIVE deploy lock held by {held.describe()}: if that deploy is still "
              f"running, both will write to the workspace at once", file=stream or sys.stderr, flush=True)
    store.delete(path)
    return held
