"""``flowdef list``: the jobs of the project, their triggers and tasks."""

from __future__ import annotations

import json
import sys

import argparse

from flowdef.cli._args import add_format, add_paths, add_target
from flowdef.cli._common import emit, project

HELP = "list the jobs and their tasks"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_paths(p)
    add_target(p)
    add_format(p, "text", "json")


def kind_name(task) -> str:
    return getattr(task.kind, "KIND", type(task.kind).__name__)


def run(args) -> int:
    opened = project(args)
    target, proj = opened.target, opened.loaded
    emit(list(proj.diagnostics), "text", sys.stderr)
    rows: list[dict] = []
    for job in sorted(proj.jobs, key=lambda j: j.key):
        trigger = type(job.triggers[0]).__name__ if job.triggers else "manual"
        rows.append({
            "key": job.key,
            "name": target.name_prefix + job.name,
            "trigger": trigger,
            "module": job.module,
            "tasks": [{"key": t.key, "kind": kind_name(t)} for t in job.tasks],
        })
    if args.format == "json":
        print(json.dumps(rows, indent=2, sort_keys=True))
    else:
        for row in rows:
            print(f"{row['key']}  ({row['name']!r}, {row['trigger']}, {len(row['tasks'])} tasks, {row['module']})")
            for t in row["tasks"]:
                print(f"  - {t['key']} [{t['kind']}]")
    return 1 if any(d.is_error for d in proj.diagnostics) else 0
