"""Argument helpers shared by the command modules (argparse only: importing this costs nothing)."""

from __future__ import annotations

import argparse


def add_paths(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="pipeline modules or folders (default: the config's)")


def add_path_option(p: argparse.ArgumentParser) -> None:
    """For commands whose positional argument is something else (a job): ``-p PATH``, repeatable."""
    p.add_argument("-p", "--path", action="append", dest="paths", default=[], help="pipeline module or folder")


def add_target(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--target", help="target from the project config (default: its default_target)")


def add_format(p: argparse.ArgumentParser, *choices: str, help: str | None = None) -> None:
    p.add_argument("--format", choices=choices, default=choices[0], help=help)


def add_lock_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lock-timeout", type=float, default=0.0, metavar="SECONDS",
                   help="wait this long for another deploy's lock (default 0: fail at once)")


def add_break_lock(p: argparse.ArgumentParser) -> None:
    p.add_argument("--break-lock", action="store_true",
                   help="remove the deploy lock first if it is stale (its lease ran out, or its process is gone)")
    p.add_argument("--force-break-lock", action="store_true",
                   help="remove the deploy lock even if it is live (dangerous: two deploys may then write at once)")


def add_retry_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument("--retry-timeout", type=float, default=None, metavar="SECONDS",
                   help="give up on a request after retrying it this long (default: $FLOWDEF_RETRY_TIMEOUT or 120)")
