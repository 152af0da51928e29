"""``flowdef graph JOB``: a picture of the job for a PR (Mermaid) or Graphviz (DOT), or plain text."""

from __future__ import annotations

import sys

from flowdef.cli._common import UsageError, find_job, project
from flowdef.cli.render import render_graph


def run(args) -> int:
    loaded = project(args)
    if isinstance(loaded, int):
        return loaded
    config, target, proj = loaded
    try:
        job = find_job(proj, args.job)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render_graph(job, args.format), end="")
    return 0
