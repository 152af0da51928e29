"""``flowdef status RUN``: the run as a tree of tasks (state, attempts, durations, errors) and its repair history;
``--format json`` is the documented status contract."""

from __future__ import annotations

import argparse
import json

from flowdef.cli._operate import add_common, fail, open_backend

HELP = "show a run: its tasks as a tree with states, attempts, durations, errors, and its repairs"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", metavar="RUN", help="run id")
    add_common(p)


def run(args) -> int:
    _, backend = open_backend(args)
    from flowdef.operate.display import status_text

    try:
        view = backend.get_run(args.run_id)
    except Exception as exc:  # noqa: BLE001
        return fail(exc)
    print(json.dumps(view.to_json(), indent=2, sort_keys=True) if args.format == "json" else status_text(view))
    return 0
