"""Operate commands for ``engine = "local"`` targets: ``run``, ``status``, ``runs``, ``logs``, ``repair``, ``cancel``.

Usable as ``python -m flowdef.local COMMAND ... [--target local]`` and by ``python -m flowdef COMMAND`` for a local
target.  Exit codes: 0 when the run's result is SUCCESS (or the command did what it was asked), 1 when the run
did not succeed or a request was refused, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

COMMANDS = ("run", "status", "runs", "logs", "repair", "cancel")


def _params(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"error: --param expects NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def add_arguments(command: str, p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", default=None)
    if command == "run":
        p.add_argument("job")
        p.add_argument("--param", action="append", metavar="NAME=VALUE")
        p.add_argument("--only", action="append", metavar="TASK")
        p.add_argument("--no-wait", action="store_true")
        p.add_argument("--format", choices=("text", "json"), default="text")
    elif command in ("status", "cancel"):
        p.add_argument("run_id", type=int)
        if command == "status":
            p.add_argument("--format", choices=("text", "json"), default="text")
    elif command == "runs":
        p.add_argument("job", nargs="?")
        p.add_argument("--format", choices=("text", "json"), default="text")
    elif command == "logs":
        p.add_argument("run_id", type=int)
        p.add_argument("task")
        p.add_argument("--attempt", type=int)
    elif command == "repair":
        p.add_argument("run_id", type=int)
        p.add_argument("--failed", action="store_true")
        p.add_argument("--task", action="append", metavar="KEY")
        p.add_argument("--dependents", action="store_true")
        p.add_argument("--param", action="append", metavar="NAME=VALUE")
        p.add_argument("--format", choices=("text", "json"), default="text")


def backend_for(config: Any, target: Any, loaded: Any, printer: Any = None) -> Any:
    from flowdef.local.backend import LocalBackend

    return LocalBackend(config, target, loaded, on_event=printer)


def _printer(fmt: str) -> Any:
    if fmt == "json":
        return None
    started: dict[tuple[str, Any], float] = {}

    def show(kind: str, data: dict[str, Any]) -> None:
        name = data["task"] + (f"[{data['iteration']}]" if data.get("iteration") is not None else "")
        if kind == "started":
            started[(name, data["attempt"])] = time.monotonic()
            print(f"  {name:<32} RUNNING   attempt {data['attempt']}", flush=True)
        else:
            took = time.monotonic() - started.pop((name, data["attempt"]), time.monotonic())
            print(f"  {name:<32} {data['state']:<9} attempt {data['attempt']}  {took:6.2f}s", flush=True)

    return show


def _summary(status: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(status, indent=2, sort_keys=True, default=str))
        return
    print(f"run {status['run_id']} of {status['job']} (target {status['target']}): "
          f"{status['result'] or status['state']}" + (f" — {status['message']}" if status.get("message") else ""))
    for task in status["tasks"]:
        line = f"  {task['task_key']:<32} {task['state']:<20} attempts {task['attempts']}"
        print(line)
        if task.get("error"):
            for i, err_line in enumerate(str(task["error"]).splitlines()[:6]):
                print(("    error: " if i == 0 else "           ") + err_line)
    for repair in status.get("repairs") or []:
        print(f"  repair {repair['repair_id']}: {repair['result'] or 'RUNNING'} ({', '.join(repair['tasks'])})")


def execute(command: str, args: argparse.Namespace, config: Any, target: Any, loaded: Any) -> int:
    from flowdef.local.backend import RunRefused

    fmt = getattr(args, "format", "text")
    backend = backend_for(config, target, loaded, _printer(fmt) if command in ("run", "repair") else None)
    try:
        if command == "run":
            run_id = backend.engine.start(args.job, _params(args.param), args.only)
            if args.no_wait:
                _detach(run_id, args, config)
                print(json.dumps({"run_id": run_id}) if fmt == "json" else f"started run {run_id}")
                return 0
            if fmt == "text":
                print(f"run {run_id} of {args.job} on target {target.name} (local)", flush=True)
            result = backend.engine.execute(run_id)
            _summary(backend.status(run_id), fmt)
            return 0 if result == "SUCCESS" else 1
        if command == "repair":
            if bool(args.failed) == bool(args.task):
                print("error: give exactly one of --failed and --task KEY", file=sys.stderr)
                return 2
            result = backend.repair(args.run_id, tasks=args.task, failed=args.failed, dependents=args.dependents,
                                    params=_params(args.param))
            _summary(backend.status(args.run_id), fmt)
            return 0 if result == "SUCCESS" else 1
        if command == "status":
            _summary(backend.status(args.run_id), fmt)
            return 0
        if command == "runs":
            rows = backend.runs(args.job)
            if fmt == "json":
                print(json.dumps(rows, indent=2, sort_keys=True))
            else:
                for r in rows:
                    print(f"{r['run_id']:>6}  {r['job']:<36} {r['result'] or r['state']:<22} {r['start']}")
            return 0
        if command == "logs":
            _print_logs(backend.logs(args.run_id, args.task, args.attempt))
            return 0
        if command == "cancel":
            backend.cancel(args.run_id)
            print(f"cancel requested for run {args.run_id}")
            return 0
    except RunRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: the run was canceled (its running attempts were stopped)", file=sys.stderr)
        return 130
    raise AssertionError(command)


def _print_logs(logs: dict[str, Any]) -> None:
    print(f"run {logs['run_id']} task {logs['task_key']} attempt {logs['attempt']} (repair {logs['repair']}): "
          f"{logs['state']}")
    if logs["error"]:
        print(f"error: {logs['error']}")
    if logs["error_trace"]:
        print(logs["error_trace"].rstrip())
    if logs["logs"]:
        print("--- stdout\n" + logs["logs"].rstrip())
    if logs["stderr"]:
        print("--- stderr\n" + logs["stderr"].rstrip())
    if logs["notebook_output"] is not None:
        print(f"--- notebook result\n{logs['notebook_output']}")
    if logs["task_values"]:
        print("--- task values\n" + json.dumps(logs["task_values"], sort_keys=True))
    if logs["columns"]:
        print(f"--- result ({len(logs['rows'])} rows{', truncated' if logs['truncated'] else ''})")
        print(" | ".join(logs["columns"]))
        for row in logs["rows"]:
            print(" | ".join("NULL" if v is None else str(v) for v in row))


def _detach(run_id: int, args: argparse.Namespace, config: Any) -> None:
    """``--no-wait``: a detached process drives the run (it owns it; status/cancel work from anywhere)."""
    import subprocess

    cmd = [sys.executable, "-m", "flowdef.local", "_drive", str(run_id)]
    if args.target:
        cmd += ["--target", args.target]
    subprocess.Popen(cmd, cwd=str(config.root), start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    from flowdef.load.config import load_config
    from flowdef.load.loader import load

    parser = argparse.ArgumentParser(prog="python -m flowdef.local", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        add_arguments(name, sub.add_parser(name))
    drive = sub.add_parser("_drive")
    drive.add_argument("run_id", type=int)
    drive.add_argument("--target")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    config = load_config()
    target = config.target(args.target)
    if getattr(target, "engine", "databricks") != "local":
        print(f"error: target {target.name!r} is not a local target (engine = \"local\")", file=sys.stderr)
        return 2
    loaded = load(config)
    if args.command == "_drive":
        backend = backend_for(config, target, loaded)
        backend.engine.records.claim(args.run_id)
        return 0 if backend.engine.execute(args.run_id) == "SUCCESS" else 1
    return execute(args.command, args, config, target, loaded)
