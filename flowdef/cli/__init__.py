"""The command line: ``main(argv) -> int``.  Exit 0 ok, 1 problems found / failed, 2 usage error.

Each command is one module ``flowdef/cli/<name>.py`` with its own arguments (``add_arguments``) and its work
(``run``); this module only lists the commands and turns errors into exit codes.  Command modules import heavy
dependencies (the SDK, jinja2, networkx) inside ``run``, so ``validate`` never pays for the SDK.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from flowdef import __version__
from flowdef.errors import FlowdefError

# The commands, in the order `flowdef --help` lists them.  Each is a module ``flowdef/cli/<name>.py`` defining
#   HELP: str                                   one line for --help
#   add_arguments(parser: ArgumentParser) -> None   its own options (helpers in cli/_args.py)
#   run(args: Namespace) -> int                 the exit code
# Command modules import their heavy dependencies inside run(), so building the parser stays cheap.
# A new command = a new module + its name here (tests/test_cli_layout.py checks every module is listed).
COMMANDS = (
    "validate",
    "compile",
    "list",
    "graph",
    "cron",
    "explain",
    "plan",
    "apply",
    "destroy",
    "bind",
    "export",
    "import_jobs",
    "run",
    "status",
    "runs",
    "logs",
    "repair",
    "cancel",
)


# command name -> module, where they differ (the module's NAME); a test checks this against the modules
_MODULE_OF = {"import": "import_jobs"}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the command line, only the named command's module is imported and its options added
    (the others get a bare entry), so ``flowdef validate`` does not import and set up all of the commands.
    ``flowdef --help``, a misspelt or missing command and ``argv=None`` build every command in full."""
    parser = argparse.ArgumentParser(
        prog="flowdef", description="Define, check, deploy, run and repair Databricks Lakeflow Jobs as Python code."
    )
    parser.add_argument("--version", action="version", version=f"flowdef {__version__}")
    parser.add_argument("-C", "--project-dir", default=None, help="run as if started in this folder")
    parser.add_argument("--config", default=None, help="project config file (flowdef.toml or pyproject.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    only = _command_in(argv) if argv is not None else None
    for name in COMMANDS:
        command = _command_name(name)
        if only is not None and command != only:
            sub.add_parser(command)  # never selected on this command line: no import, no options
            continue
        module = importlib.import_module(f"flowdef.cli.{name}")
        p = sub.add_parser(getattr(module, "NAME", name), help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run, _teardown=getattr(module, "TEARDOWN", True))
    return parser


def _command_name(module: str) -> str:
    return next((c for c, m in _MODULE_OF.items() if m == module), module)


def _command_in(argv: list[str]) -> str | None:
    """The command of a command line when it is plainly one of ours (options before it are the top-level ones,
    -C/--config take a value); None when unsure, and then the full parser decides and words any error."""
    known = {_command_name(m) for m in COMMANDS}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-C", "--project-dir", "--config"):
            i += 2
            continue
        if arg.startswith("-"):
            if arg.startswith(("--project-dir=", "--config=")) or (arg.startswith("-C") and len(arg) > 2):
                i += 1
                continue
            return None  # --help, --version or something unknown: the full parser
        return arg if arg in known else None
    return None


# Whether the process may end without the interpreter's teardown once main() returned (``python -m flowdef``):
# set by commands that hold no resource but memory (TEARDOWN = False in their module).  Freeing a monorepo's
# objects one by one at exit costs ~0.2 s of a 0.8 s validate; the OS takes the memory back at once.
skip_teardown = False


def main(argv: list[str] | None = None) -> int:
    global skip_teardown
    args_in = sys.argv[1:] if argv is None else argv
    parser = build_parser([*args_in])  # not list(): the `list` command module shadows it here
    try:
        args = parser.parse_args(args_in)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    skip_teardown = not getattr(args, "_teardown", True)
    from flowdef.cli._common import UsageError
    from flowdef.errors import ConfigError, Reported
    from flowdef.load.project import UnknownTargetError

    try:
        return int(args._run(args))
    except (UsageError, UnknownTargetError) as exc:  # the command line names something that does not exist
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:  # a config file we cannot use: every problem, each at its file and line
        from flowdef._location import Location
        from flowdef.cli._common import emit
        from flowdef.diagnostics import diag, format_text

        problems = [diag("FD004", str(p), Location(p.file, p.line or 1) if p.file else None) for p in exc.problems]
        if getattr(args, "format", "text") in ("json", "github"):  # machine-read output stays machine-readable
            emit(problems, args.format)
        else:
            print(format_text(problems), file=sys.stderr)
        return 1
    except Reported as exc:  # already explained (e.g. the diagnostics that stop a deploy)
        return exc.code
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
    """The first line of an error, secret-looking values masked (a workspace's answer may echo a token)."""
    from flowdef.deploy.mask import mask_message

    text = str(exc).strip().splitlines()
    return mask_message(text[0]) if text else type(exc).__name__


def main_entry() -> None:
    sys.exit(main())
