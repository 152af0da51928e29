"""Run records of a local workspace, in SQLite (``<data_dir>/runs.sqlite``).

Tables: ``runs`` (one row per run: job, parameters, life-cycle state, result, message, owner process, the state
machine's snapshot), ``tasks`` (the latest state of each task, for queries), ``attempts`` (every attempt of
every pass: state, timings, error, trace, task values, output rows, notebook result, log files).

Safety: every change is one transaction (WAL journal, ``BEGIN IMMEDIATE``), so a process killed mid-write
leaves the previous consistent state.  A run belongs to the process that drives it (``owner_pid`` plus the
process's start time, so a recycled pid is not mistaken for it); a reader that finds an active run whose owner
is gone records it as interrupted (:meth:`Records.reap`), after which it can be repaired.

The snapshot is the pickled :class:`flowdef.runs.Run` (pure data): the run's rules stay in flowdef.runs; this
module only stores them.  It is read back only from this workspace's own database file.
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    target TEXT NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL,              -- QUEUED, RUNNING, TERMINATED, SKIPPED
    result TEXT,
    message TEXT,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    owner_pid INTEGER,
    owner_token TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    settings TEXT NOT NULL,
    snapshot BLOB
);
CREATE INDEX IF NOT EXISTS runs_by_job ON runs (job, run_id);
-- a start request's idempotency token -> the run it started (a retried request returns that run)
CREATE TABLE IF NOT EXISTS start_tokens (
    token TEXT PRIMARY KEY,
    run_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    run_id INTEGER NOT NULL,
    task_key TEXT NOT NULL,
    state TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    start_ms INTEGER,
    end_ms INTEGER,
    error TEXT,
    task_values TEXT,
    PRIMARY KEY (run_id, task_key)
);
CREATE TABLE IF NOT EXISTS attempts (
    run_id INTEGER NOT NULL,
    task_key TEXT NOT NULL,
    iteration INTEGER NOT NULL DEFAULT -1,
    pass_no INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    state TEXT,
    start_ms INTEGER,
    end_ms INTEGER,
    error TEXT,
    error_trace TEXT,
    task_values TEXT,
    columns TEXT,
    rows TEXT,
    truncated INTEGER,
    notebook_output TEXT,
    stdout_path TEXT,
    stderr_path TEXT,
    PRIMARY KEY (run_id, task_key, iteration, pass_no, attempt)
);
"""

ACTIVE = ("QUEUED", "RUNNING")


def now_ms() -> int:
    return int(time.time() * 1000)


def process_token(pid: int) -> str | None:
    """The start time of process ``pid`` (Linux ``/proc``), so a reused pid is not taken for the owner."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def alive(pid: int | None, token: str | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    current = process_token(pid)
    return token is None or current is None or current == token


class Records:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._written: dict[tuple[int, str], tuple[Any, ...]] = {}  # task rows as last written by this process

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- runs ------------------------------------------------------------------------------------------------
    def create(self, job: str, target: str, params: dict[str, str], settings: dict[str, Any], state: str,
               message: str | None = None) -> int:
        me = os.getpid()
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO runs (job, target, params, state, message, start_ms, owner_pid, owner_token, settings) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job, target, json.dumps(params, sort_keys=True), state, message, now_ms(),
                 me if state in ACTIVE else None, process_token(me), json.dumps(settings, sort_keys=True)),
            )
            return int(cur.lastrowid or 0)

    def run_for_token(self, token: str) -> int | None:
        row = self.db.execute("SELECT run_id FROM start_tokens WHERE token = ?", (token,)).fetchone()
        return None if row is None else int(row[0])

    def remember_token(self, token: str, run_id: int) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO start_tokens (token, run_id) VALUES (?, ?)", (token, run_id))

    def active_runs(self, db: sqlite3.Connection, job: str, exclude: int | None = None) -> int:
        rows = db.execute("SELECT run_id, owner_pid, owner_token FROM runs WHERE job = ? AND state IN (?, ?)",
                          (job, *ACTIVE)).fetchall()
        return sum(1 for run_id, pid, token in rows if run_id != exclude and alive(pid, token))

    def row(self, run_id: int) -> dict[str, Any] | None:
        cur = self.db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        got = cur.fetchone()
        if got is None:
            return None
        return dict(zip([d[0] for d in cur.description], got))

    def recent(self, job: str | None = None, limit: int = 25) -> list[dict[str, Any]]:
        sql = "SELECT run_id, job, state, result, message, start_ms, end_ms FROM runs"
        args: tuple[Any, ...] = ()
        if job:
            sql += " WHERE job = ?"
            args = (job,)
        cur = self.db.execute(sql + " ORDER BY run_id DESC LIMIT ?", (*args, limit))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def load(self, run_id: int) -> Any:
        return self.snapshot(self.row(run_id))

    @staticmethod
    def snapshot(row: dict[str, Any] | None) -> Any:
        """The run machine stored in ``row``: read with the row's other columns in one query, so the state and
        the machine never come from two different moments (a driver saving in between)."""
        if row is None or row["snapshot"] is None:
            return None
        return pickle.loads(row["snapshot"])  # noqa: S301 - our own file, written by save()

    def save(self, run_id: int, run: Any, *, state: str | None = None, message: str | None = None,
             attempts: list[dict[str, Any]] | None = None) -> None:
        """Store the machine's snapshot, the task table and new attempt rows, in one transaction."""
        blob = pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL)
        with self.transaction() as db:
            life = state or ("TERMINATED" if run.result is not None else "RUNNING")
            db.execute(
                "UPDATE runs SET snapshot = ?, state = ?, result = ?, end_ms = ?, message = COALESCE(?, message), "
                "params = ? WHERE run_id = ?",
                (blob, life, run.result, run.end_time, message, json.dumps(run.params, sort_keys=True), run_id),
            )
            if life not in ACTIVE:
                db.execute("UPDATE runs SET owner_pid = NULL WHERE run_id = ?", (run_id,))
            for record in run.tasks:
                row = (run_id, record.key, record.state or record.phase, len(record.history), record.start,
                       record.end, record.error, json.dumps(record.values, sort_keys=True, default=str))
                if self._written.get((run_id, record.key)) != row:  # only what changed since the last step
                    db.execute("INSERT OR REPLACE INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
                    self._written[(run_id, record.key)] = row
            for a in attempts or ():
                db.execute(
                    "INSERT OR REPLACE INTO attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, a["task_key"], a.get("iteration", -1), a["pass_no"], a["attempt"], a.get("state"),
                     a.get("start_ms"), a.get("end_ms"), a.get("error"), a.get("error_trace"),
                     json.dumps(a.get("task_values") or {}, default=str), json.dumps(a.get("columns") or []),
                     json.dumps(a.get("rows") or [], default=str), int(bool(a.get("truncated"))),
                     a.get("notebook_output"), a.get("stdout_path"), a.get("stderr_path")),
                )

    def claim(self, run_id: int) -> None:
        """This process drives the run from now on (a repair)."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET owner_pid = ?, owner_token = ?, state = 'RUNNING', cancel_requested = 0 "
                       "WHERE run_id = ?", (os.getpid(), process_token(os.getpid()), run_id))

    def hand_over(self, run_id: int, pid: int) -> None:
        """Process ``pid`` drives the run from now on (a detached driver)."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET owner_pid = ?, owner_token = ? WHERE run_id = ?",
                       (pid, process_token(pid), run_id))

    def request_cancel(self, run_id: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET cancel_requested = 1 WHERE run_id = ?", (run_id,))

    def cancel_requested(self, run_id: int) -> bool:
        got = self.db.execute("SELECT cancel_requested FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return bool(got and got[0])

    def attempts(self, run_id: int, task_key: str) -> list[dict[str, Any]]:
        cur = self.db.execute("SELECT * FROM attempts WHERE run_id = ? AND task_key = ? "
                              "ORDER BY pass_no, iteration, attempt", (run_id, task_key))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def orphaned(self) -> list[int]:
        """Active runs whose driving process is gone (killed, crashed, machine rebooted)."""
        rows = self.db.execute("SELECT run_id, owner_pid, owner_token FROM runs WHERE state IN (?, ?)",
                               ACTIVE).fetchall()
        return [run_id for run_id, pid, token in rows if not alive(pid, token)]
