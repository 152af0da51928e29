"""``flowdef runs [JOB]``: the target's recent runs (of one job, or of all the project's jobs), newest first."""

from __future__ import annotations

import argparse
import json

from flowdef.cli._operate import add_common, check_job, fail, open_backend

HELP = "list recent runs of a job (or of every job of the project), newest first"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", nargs="?", help="job key (default: every job of the project on the target)")
    add_common(p)
    p.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")


def run(args) -> int:
    opened, backend = open_backend(args)
    if args.job:
        check_job(opened, args.job)
    from flowdef.operate.display import runs_text

    try:
        views = backend.list_runs(args.job, max(1, args.limit))
    except Exception as exc:  # noqa: BLE001
        return fail(exc)
    if args.format == "json":
        print(json.dumps([v.to_json() for v in views], indent=2, sort_keys=True))
    else:
        print(runs_text(views))
    return 0
