"""``flowdef run JOB``: start a run of a job on the target and follow it live (``--no-wait``: just start it)."""

from __future__ import annotations

import argparse
import json
import sys
import uuid

from flowdef.cli._operate import add_common, add_params, check_job, fail, open_backend, params

HELP = "start a run of a job and follow it: live display, summary, exit 0 only on SUCCESS"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", help="job key")
    add_common(p)
    add_params(p)
    p.add_argument("--only", action="append", default=[], metavar="TASK",
                   help="run only this task (repeatable; +TASK adds its upstream, TASK+ its downstream)")
    p.add_argument("--no-wait", action="store_true", help="start the run and return its id at once")


def run(args) -> int:
    chosen = params(args.param)
    opened, backend = open_backend(args)
    check_job(opened, args.job)
    from flowdef.operate.follow import follow

    token = str(uuid.uuid4())  # one per command: a retried request never starts a second run
    try:
        run_id = backend.start_run(args.job, chosen, args.only or None, token)
        if args.no_wait:
            url = backend.run_url(run_id)
            if args.format == "json":
                print(json.dumps({"run_id": run_id, "job": args.job, "url": url}, sort_keys=True))
            else:
                print(f"started run {run_id} of {args.job}" + (f": {url}" if url else ""))
            return 0
        print(f"started run {run_id} of {args.job}", file=sys.stderr if args.format == "json" else sys.stdout)
        return follow(backend, run_id, fmt=args.format)
    except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
        return fail(exc)
