"""``flowdef repair RUN``: rerun the failed tasks (or chosen ones), optionally with everything downstream, inside
the same run, then follow it like ``run``.  ``latest_repair_id`` is handled by the backend."""

from __future__ import annotations

import argparse
import json
import sys

from flowdef.cli._operate import add_common, add_params, fail, open_backend, params

HELP = "repair a finished run: rerun its failed (or chosen) tasks, then follow it"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", metavar="RUN", help="run id")
    add_common(p)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--failed", action="store_true", help="rerun every task that did not succeed (the default)")
    which.add_argument("--task", action="append", default=[], metavar="KEY", help="rerun this task (repeatable)")
    p.add_argument("--dependents", action="store_true", help="also rerun everything downstream of them")
    add_params(p)
    p.add_argument("--no-wait", action="store_true", help="start the repair and return at once")


def run(args) -> int:
    chosen = params(args.param)
    _, backend = open_backend(args)
    from flowdef.operate.follow import follow

    try:
        repair_id = backend.repair(args.run_id, args.task or None, args.dependents, chosen)
        stream = sys.stderr if args.format == "json" else sys.stdout
        if args.no_wait:
            if args.format == "json":
                print(json.dumps({"run_id": args.run_id, "repair_id": repair_id}, sort_keys=True))
            else:
                print(f"repair {repair_id} of run {args.run_id} started")
            return 0
        print(f"repair {repair_id} of run {args.run_id} started", file=stream)
        return follow(backend, args.run_id, fmt=args.format)
    except Exception as exc:  # noqa: BLE001
        return fail(exc)
