"""The command line: ``main(argv) -> int``.  Exit 0 ok, 1 problems found / failed, 2 usage error.

Argument parsing is defined here for every command; each command's work lives in ``flowdef/cli/<name>.py``
and is imported only when that command runs, so ``validate`` never pays for the SDK.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from flowdef import __version__
from flowdef.errors import FlowdefError

_COMMANDS = {
    "validate": "check the job definitions: every problem, with file and line",
    "compile": "write Jobs API 2.2 payloads (and rendered SQL) per job",
    "list": "list the jobs and their tasks",
    "graph": "draw a job's task graph (Mermaid, DOT or text)",
    "cron": "preview a Quartz cron schedule: the next fire times",
    "explain": "describe a job's trigger in words, with its next runs",
    "plan": "show what apply would change in the workspace",
    "apply": "make the workspace match the code",
    "destroy": "delete the jobs this project deployed to a target",
    "bind": "adopt an existing workspace job as one of this project's jobs",
}


def _paths(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="pipeline modules or folders (default: the config's)")


def _target(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--target", help="target from the project config (default: its default_target)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flowdef", description="Define, check, deploy, run and repair Databricks Lakeflow Jobs as Python code."
    )
    parser.add_argument("--version", action="version", version=f"flowdef {__version__}")
    parser.add_argument("-C", "--project-dir", default=None, help="run as if started in this folder")
    parser.add_argument("--config", default=None, help="project config file (flowdef.toml or pyproject.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    ps = {name: sub.add_parser(name, help=text, description=text) for name, text in _COMMANDS.items()}

    p = ps["validate"]
    _paths(p)
    _target(p)
    p.add_argument("--format", choices=("text", "json", "github"), default="text")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")

    p = ps["compile"]
    _paths(p)
    _target(p)
    p.add_argument("--out", default="build", help="output folder (default: build/)")
    p.add_argument("--check", action="store_true", help="fail if the files on disk differ (a CI drift gate)")
    p.add_argument("--format", choices=("text", "json", "github"), default="text", help="diagnostics format")

    p = ps["list"]
    _paths(p)
    _target(p)
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = ps["graph"]
    p.add_argument("job", help="job key or name")
    p.add_argument("-p", "--path", action="append", dest="paths", default=[], help="pipeline module or folder")
    _target(p)
    p.add_argument("--format", choices=("mermaid", "dot", "text"), default="mermaid")

    p = ps["cron"]
    p.add_argument("expr", help="Quartz cron expression, e.g. '0 30 2 * * ?'")
    p.add_argument("--tz", default="UTC", help="Java time-zone id (default UTC)")
    p.add_argument("--after", default=None, help="ISO-8601 instant to start from (default: now)")
    p.add_argument("--count", type=int, default=5, help="how many fire times (default 5)")

    p = ps["explain"]
    p.add_argument("job", help="job key or name")
    p.add_argument("-p", "--path", action="append", dest="paths", default=[], help="pipeline module or folder")
    _target(p)
    p.add_argument("--after", default=None, help="ISO-8601 instant to start from (default: now)")
    p.add_argument("--count", type=int, default=5)

    for name in ("plan", "apply", "destroy"):
        p = ps[name]
        _target(p)
        if name != "destroy":
            _paths(p)
        p.add_argument("--format", choices=("text", "json"), default="text")
    ps["apply"].add_argument("--yes", "-y", action="store_true", help="do not ask before deleting")
    ps["apply"].add_argument("--prune", action="store_true", help="delete managed jobs no longer in the code")
    ps["apply"].add_argument("--concurrency", type=int, default=8, help="jobs applied at once (default 8)")
    ps["apply"].add_argument("--break-lock", action="store_true", help="remove a stale deploy lock first")
    ps["destroy"].add_argument("--yes", "-y", action="store_true", help="do not ask")
    ps["destroy"].add_argument("--break-lock", action="store_true", help="remove a stale deploy lock first")
    for name in ("apply", "destroy", "bind"):
        ps[name].add_argument("--lock-timeout", type=float, default=0.0, metavar="SECONDS",
                              help="wait this long for another deploy's lock (default 0: fail at once)")
    ps["plan"].add_argument("--detailed-exitcode", action="store_true",
                            help="exit 2 when the plan has changes (0: none, 1: error)")

    p = ps["bind"]
    p.add_argument("job", help="job key in this project")
    p.add_argument("job_id", type=int, help="id of the existing workspace job")
    _target(p)
    p.add_argument("--yes", "-y", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    module = importlib.import_module(f"flowdef.cli.{args.command}")
    try:
        return int(module.run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (FlowdefError, OSError) as exc:  # a file we cannot write, a workspace error: one line, no traceback
        if os.environ.get("FLOWDEF_DEBUG"):
            raise
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a bug of ours: say so in one line, keep the traceback on request
        if os.environ.get("FLOWDEF_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {_one_line(exc)} (this is a flowdef bug: please report it; "
              "FLOWDEF_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def main_entry() -> None:
    sys.exit(main())
