"""``flowdef cancel RUN``: cancel a run (cleanup tasks with ALL_DONE / AT_LEAST_ONE_FAILED still run)."""

from __future__ import annotations

import argparse

from flowdef.cli._operate import add_common, fail, open_backend

HELP = "cancel a run (its cleanup tasks still run)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", metavar="RUN", help="run id")
    add_common(p, fmt=False)


def run(args) -> int:
    _, backend = open_backend(args)
    try:
        backend.cancel(args.run_id)
    except Exception as exc:  # noqa: BLE001
        return fail(exc)
    print(f"cancel requested for run {args.run_id}")
    return 0
