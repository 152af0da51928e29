"""``flowdef graph JOB``: a picture of the job for a PR (Mermaid) or Graphviz (DOT), or plain text."""

from __future__ import annotations

import argparse
import sys

from flowdef.cli._args import add_path_option, add_target
from flowdef.cli._common import UsageError, find_job, project
from flowdef.cli.render import render_graph

HELP = "draw a job's task graph (Mermaid, DOT or text)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", help="job key or name")
    add_path_option(p)
    add_target(p)
    p.add_argument("--format", choices=("mermaid", "dot", "text"), default="mermaid")


def run(args) -> int:
    proj = project(args).loaded
    try:
        job = find_job(proj, args.job)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render_graph(job, args.format), end="")
    return 0
