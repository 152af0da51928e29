"""Trigger rules: one trigger per job, Quartz expressions and Java time zones, event-trigger settings."""

from __future__ import annotations

import re

from flowdef.diagnostics import Diagnostic
from flowdef.triggers import Continuous, Cron, FileArrival, JobCompletion, Periodic, TableUpdate
from flowdef.validation.structure import JobContext

_KIND = {
    Cron: "schedule (Cron)", Continuous: "continuous (Continuous)", FileArrival: "trigger (FileArrival)",
    TableUpdate: "trigger (TableUpdate)", Periodic: "trigger (Periodic)", JobCompletion: "trigger (JobCompletion)",
}
_TABLE = re.compile(r"[^.\s]+\.[^.\s]+\.[^.\s]+\Z")
_UNITS = ("MINUTES", "HOURS", "DAYS", "WEEKS")


def check(ctx: JobContext) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    triggers = ctx.job.triggers
    if len(triggers) > 1:
        names = " and ".join(_KIND[type(t)] for t in triggers)
        out.append(ctx.d(
            "FD301",
            f"job {ctx.job.key!r} has {len(triggers)} triggers ({names}); the Jobs API allows one of schedule, "
            "continuous or a single event trigger — keep one",
            triggers[1].location,
        ))
    for t in triggers:
        out += _check_one(ctx, t)
    return out


def _check_one(ctx: JobContext, t) -> list[Diagnostic]:
    out = []
    loc = t.location
    if isinstance(t, Cron):
        try:  # TEMPORARY until flowdef.quartz lands
            from flowdef.quartz import QuartzError, check_timezone, parse
        except ImportError:
            return out
        try:
            parse(t.expression)
        except QuartzError as exc:
            out.append(ctx.d("FD302", f"invalid Quartz cron expression {t.expression!r}: {exc.message}", loc,
                             "schedule.quartz_cron_expression"))
        problem = check_timezone(t.timezone)
        if problem:
            out.append(ctx.d("FD303", problem, loc, "schedule.timezone_id"))
    elif isinstance(t, (FileArrival, TableUpdate)):
        for name in ("min_time_between_triggers", "wait_after_last_change"):
            value = getattr(t, name)
            if value is not None and value < 60:
                out.append(ctx.d("FD304", f"{name} must be at least 60 seconds, got {value}", loc, "trigger"))
        if isinstance(t, FileArrival):
            if not (t.url.startswith("/Volumes/") or re.match(r"[a-z0-9]+://", t.url)):
                out.append(ctx.d(
                    "FD304",
                    f"file arrival url {t.url!r} must be a Unity Catalog volume path (/Volumes/<catalog>/<schema>/"
                    "<volume>/...) or an external location URL (s3://, abfss://, gs://)",
                    loc, "trigger.file_arrival.url",
                ))
            elif any(ch in t.url for ch in "*?["):
                out.append(ctx.d("FD304", f"file arrival url {t.url!r} cannot contain wildcards; watch the folder",
                                 loc, "trigger.file_arrival.url"))
        else:
            if not t.tables:
                out.append(ctx.d("FD304", "TableUpdate needs at least one table", loc, "trigger.table_update"))
            for name in t.tables:
                if not _TABLE.match(name):
                    out.append(ctx.d("FD304", f"table {name!r} must be a three-part name catalog.schema.table",
                                     loc, "trigger.table_update.table_names"))
            if t.condition not in ("ANY_UPDATED", "ALL_UPDATED"):
                out.append(ctx.d("FD304", f"condition must be ANY_UPDATED or ALL_UPDATED, got {t.condition!r}",
                                 loc, "trigger.table_update.condition"))
    elif isinstance(t, Periodic):
        if t.unit not in _UNITS:
            out.append(ctx.d("FD304", f"Periodic unit must be one of {', '.join(_UNITS)}, got {t.unit!r}", loc,
                             "trigger.periodic.unit"))
        if not isinstance(t.interval, int) or t.interval < 1:
            out.append(ctx.d("FD304", f"Periodic interval must be a positive integer, got {t.interval!r}", loc,
                             "trigger.periodic.interval"))
    elif isinstance(t, Continuous):
        if t.task_retry_mode not in (None, "NEVER", "ON_FAILURE"):
            out.append(ctx.d("FD304", f"task_retry_mode must be NEVER or ON_FAILURE, got {t.task_retry_mode!r}",
                             loc, "continuous.task_retry_mode"))
    elif isinstance(t, JobCompletion):
        if not t.jobs or len(t.jobs) > 10:
            out.append(ctx.d("FD304", "JobCompletion needs 1 to 10 upstream job ids", loc, "trigger.job_completion"))
        if t.if_status not in (None, "SUCCESS", "FAILED", "DONE"):
            out.append(ctx.d("FD304", f"if_status must be SUCCESS, FAILED or DONE, got {t.if_status!r}", loc,
                             "trigger.job_completion.if_status"))
    return out
