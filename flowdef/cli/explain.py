"""``flowdef explain JOB``: the job's trigger in words, with its next runs (for schedules)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from flowdef.cli._args import add_path_option, add_target
from flowdef.cli._common import UsageError, find_job, project
from flowdef.cli.cron import format_instant, parse_instant
from flowdef.model.triggers import (
    Continuous,
    Cron,
    FileArrival,
    JobCompletion,
    Periodic,
    TableUpdate,
)

HELP = "describe a job's trigger in words, with its next runs"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", help="job key or name")
    add_path_option(p)
    add_target(p)
    p.add_argument("--after", default=None, help="ISO-8601 instant to start from (default: now)")
    p.add_argument("--count", type=int, default=5)


def _seconds(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value // 60} min" if value % 60 == 0 else f"{value} s"


def describe_trigger(job, target, after: datetime, count: int) -> list[str]:
    from flowdef.compile.compiler import resolve_params

    if not job.triggers:
        return ["Manual: no trigger; runs only when started (run-now, the UI, or another job's run-job task)."]
    t = job.triggers[0]
    paused = t.paused or target.pause_triggers
    lines: list[str] = []
    if isinstance(t, Cron):
        from flowdef.quartz import QuartzError, describe, next_fire_times

        try:
            text = describe(t.expression)
            fires = next_fire_times(t.expression, tz=t.timezone, after=after, count=count)
        except QuartzError as exc:
            return [f"Schedule {t.expression!r} is invalid: {exc.message}"]
        lines.append(f"Schedule: {text} ({t.timezone}); Quartz expression {t.expression!r}.")
        if fires:
            from zoneinfo import ZoneInfo

            lines.append(f"Next {len(fires)} runs after {format_instant(after)}:")
            try:
                zone = ZoneInfo(t.timezone)
            except Exception:  # Java-only ids: show UTC alone
                zone = None
            for fire in fires:
                utc = format_instant(fire)
                local = f"  ({fire.astimezone(zone).strftime('%a %Y-%m-%d %H:%M:%S %Z')})" if zone else ""
                lines.append(f"  {utc}{local}")
        else:
            lines.append("It never fires again.")
    elif isinstance(t, FileArrival):
        line = f"File arrival: runs when new files land under {resolve_params(t.url, job, target)}"
        extra = []
        if t.min_time_between_triggers:
            extra.append(f"at most once every {_seconds(t.min_time_between_triggers)}")
        if t.wait_after_last_change:
            extra.append(f"after {_seconds(t.wait_after_last_change)} without new files")
        lines.append(line + (", " + ", ".join(extra) if extra else "") + ".")
    elif isinstance(t, TableUpdate):
        which = "any of" if t.condition == "ANY_UPDATED" else "all of"
        tables = ", ".join(resolve_params(n, job, target) for n in t.tables)
        lines.append(f"Table update: runs when {which} these tables are updated: {tables}.")
    elif isinstance(t, Periodic):
        lines.append(f"Periodic: runs every {t.interval} {t.unit.lower()} (the scheduler picks the first time).")
    elif isinstance(t, Continuous):
        retry = t.task_retry_mode or "NEVER"
        lines.append(f"Continuous: one run always active; a new run starts when one ends (task retry mode {retry}).")
    elif isinstance(t, JobCompletion):
        lines.append(f"Job completion: runs when jobs {', '.join(map(str, t.jobs))} finish "
                     f"with status {t.if_status or 'SUCCESS'}.")
    if paused:
        why = f" (target {target.name!r} pauses every trigger)" if target.pause_triggers and not t.paused else ""
        lines.append(f"The trigger is deployed PAUSED{why}.")
    return lines


def run(args) -> int:
    opened = project(args)
    target, proj = opened.target, opened.loaded
    try:
        job = find_job(proj, args.job)
        after = parse_instant(args.after)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{target.name_prefix}{job.name} ({job.key}, target {target.name})")
    for line in describe_trigger(job, target, after, args.count):
        print(line)
    return 0
