"""What the operate commands (run, status, runs, logs, repair, cancel) share: their common options, ``k=v``
parameters, and the backend of the chosen target."""

from __future__ import annotations

import argparse
from typing import Any

from flowdef.cli._args import add_target


def add_common(p: argparse.ArgumentParser, *, fmt: bool = True) -> None:
    add_target(p)
    if fmt:
        p.add_argument("--format", choices=("text", "json"), default="text",
                       help="text for people, json for machines (the documented status contract)")


def add_params(p: argparse.ArgumentParser) -> None:
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="job parameter for this run (repeatable)")


def params(items: list[str]) -> dict[str, str]:
    from flowdef.cli._common import UsageError

    out: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise UsageError(f"--param takes NAME=VALUE, got {item!r}")
        out[name.strip()] = value
    return out


def open_backend(args: Any) -> tuple[Any, Any]:
    """(opened project, backend) for the command line's target."""
    from flowdef.cli._common import project
    from flowdef.operate.backend import backend_for

    opened = project(args)
    return opened, backend_for(opened)


def check_job(opened: Any, key: str) -> None:
    from flowdef.cli._common import find_job

    find_job(opened.loaded, key)


def fail(exc: BaseException) -> int:
    """One clear line for an operate failure (a backend's refusal or a workspace error); exit 1."""
    import sys

    from flowdef.errors import FlowdefError

    if isinstance(exc, FlowdefError):
        from flowdef.deploy.mask import mask_message

        text = mask_message(str(exc))
    else:
        from flowdef.deploy.client import describe

        text = describe(exc)
    print(f"error: {text}", file=sys.stderr)
    return 1
