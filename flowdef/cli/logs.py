"""``flowdef logs RUN TASK``: what a task's latest attempt (or ``--attempt N``) produced: error, error trace,
logs, notebook result, SQL result."""

from __future__ import annotations

import argparse
import json

from flowdef.cli._operate import add_common, fail, open_backend

HELP = "show a task's output: error, trace, logs, notebook result, SQL rows"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", metavar="RUN", help="run id")
    p.add_argument("task", metavar="TASK", help="task key")
    add_common(p)
    p.add_argument("--attempt", type=int, default=None, metavar="N", help="attempt number (0 = first; default latest)")


def run(args) -> int:
    _, backend = open_backend(args)
    from flowdef.operate.display import output_text

    try:
        out = backend.task_output(args.run_id, args.task, args.attempt)
    except Exception as exc:  # noqa: BLE001
        return fail(exc)
    print(json.dumps(out.to_json(), indent=2, sort_keys=True) if args.format == "json" else output_text(out))
    return 0
