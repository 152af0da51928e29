"""Trigger rules: one trigger per job, Quartz expressions and Java time zones, event-trigger settings.

Trigger strings may use ``{{job.parameters.<name>}}`` (replaced by the target's default at compile time): they are
checked after that replacement, the way the service will see them.
"""

from __future__ import annotations

import functools
import re

from flowdef.diagnostics import Diagnostic
from flowdef.model.triggers import _WEEKDAYS, Continuous, Cron, FileArrival, JobCompletion, Periodic, TableUpdate
from flowdef.validate.structure import JobContext

_KIND = {
    Cron: "schedule (Cron)", Continuous: "continuous (Continuous)", FileArrival: "trigger (FileArrival)",
    TableUpdate: "trigger (TableUpdate)", Periodic: "trigger (Periodic)", JobCompletion: "trigger (JobCompletion)",
}
_TABLE = re.compile(r"[^.\s]+\.[^.\s]+\.[^.\s]+\Z")
_UNITS = ("MINUTES", "HOURS", "DAYS", "WEEKS")
_MIN_TRIGGER_SECONDS = 60
_MAX_UPSTREAM_JOBS = 10
_MIN_SCHEDULE_SPACING = 10  # seconds: the scheduler starts runs at most this often


def check(ctx: JobContext) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    triggers = ctx.job.triggers
    if len(triggers) > 1:
        names = " and ".join(_KIND.get(type(t), type(t).__name__) for t in triggers)
        out.append(ctx.d(
            "FD301",
            f"job {ctx.job.key!r} has {len(triggers)} triggers ({names}); the Jobs API allows one of schedule, "
            "continuous or a single event trigger — keep one",
            triggers[1].location, "trigger",
        ))
    for t in triggers:
        out += _check_one(ctx, t)
    return out


def _resolve(ctx: JobContext, text: str) -> str:
    """``{{job.parameters.x}}`` -> the target's value of ``x`` (unknown names are left: FD202 reports them)."""
    if "{{" not in text:
        return text
    from flowdef.jobsapi.refs import fill_job_parameters

    values = {p.name: p.default for p in ctx.job.params}
    values.update({k: v for k, v in ctx.target.params if k in values})
    return fill_job_parameters(text, values)


def _check_one(ctx: JobContext, t) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    loc = t.location
    if isinstance(t, Cron):
        out += _cron(ctx, t)
    elif isinstance(t, (FileArrival, TableUpdate)):
        field = "file_arrival" if isinstance(t, FileArrival) else "table_update"
        for name in ("min_time_between_triggers", "wait_after_last_change"):
            value = getattr(t, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                out.append(ctx.d("FD304", f"{name} must be a whole number of seconds, got {value!r}", loc,
                                 f"trigger.{field}.{name}_seconds"))
            elif value < _MIN_TRIGGER_SECONDS:
                out.append(ctx.d("FD304", f"{name} must be at least {_MIN_TRIGGER_SECONDS} seconds, got {value}",
                                 loc, f"trigger.{field}.{name}_seconds"))
        if isinstance(t, FileArrival):
            url = _resolve(ctx, t.url)
            if not (url.startswith("/Volumes/") or re.match(r"[a-z0-9]+://", url)) and "{{" not in url:
                out.append(ctx.d(
                    "FD304",
                    f"file arrival url {t.url!r} must be a Unity Catalog volume path (/Volumes/<catalog>/<schema>/"
                    "<volume>/...) or an external location URL (s3://, abfss://, gs://)",
                    loc, "trigger.file_arrival.url",
                ))
            elif any(ch in url for ch in "*?["):
                out.append(ctx.d("FD304", f"file arrival url {t.url!r} cannot contain wildcards; watch the folder",
                                 loc, "trigger.file_arrival.url"))
        else:
            if not t.tables:
                out.append(ctx.d("FD304", "TableUpdate needs at least one table", loc, "trigger.table_update"))
            for name in t.tables:
                resolved = _resolve(ctx, name)
                if "{{" not in resolved and not _TABLE.match(resolved):
                    out.append(ctx.d(
                        "FD304",
                        f"table {name!r}" + (f" ({resolved!r} for target {ctx.target.name!r})" if resolved != name
                                             else "") + " must be a three-part name catalog.schema.table",
                        loc, "trigger.table_update.table_names",
                    ))
            if t.condition not in ("ANY_UPDATED", "ALL_UPDATED"):
                out.append(ctx.d("FD304", f"condition must be ANY_UPDATED or ALL_UPDATED, got {t.condition!r}",
                                 loc, "trigger.table_update.condition"))
    elif isinstance(t, Periodic):
        if t.unit not in _UNITS:
            out.append(ctx.d("FD304", f"Periodic unit must be one of {', '.join(_UNITS)}, got {t.unit!r}", loc,
                             "trigger.periodic.unit"))
        if isinstance(t.interval, bool) or not isinstance(t.interval, int) or t.interval < 1:
            out.append(ctx.d("FD304", f"Periodic interval must be a positive integer, got {t.interval!r}", loc,
                             "trigger.periodic.interval"))
    elif isinstance(t, Continuous):
        if t.task_retry_mode not in (None, "NEVER", "ON_FAILURE"):
            out.append(ctx.d("FD304", f"task_retry_mode must be NEVER or ON_FAILURE, got {t.task_retry_mode!r}",
                             loc, "continuous.task_retry_mode"))
        window = t.maintenance_window
        if window is not None:
            path = "continuous.maintenance_window"
            if isinstance(window.start_hour, bool) or not isinstance(window.start_hour, int) \
                    or not 0 <= window.start_hour <= 23:
                out.append(ctx.d("FD304", f"maintenance window start_hour must be an hour 0-23, got "
                                 f"{window.start_hour!r}", loc, f"{path}.start_hour"))
            if window.day_of_week not in _WEEKDAYS:
                out.append(ctx.d("FD304", f"maintenance window day {window.day_of_week!r} is not a day of the week; "
                                 "use MONDAY ... SUNDAY (or MON ... SUN)", loc, f"{path}.day_of_week"))
            from flowdef.quartz import check_timezone

            problem = check_timezone(window.timezone)
            if problem:
                out.append(ctx.d("FD303", problem, loc, f"{path}.timezone_id"))
    elif isinstance(t, JobCompletion):
        if not t.jobs or len(t.jobs) > _MAX_UPSTREAM_JOBS:
            out.append(ctx.d("FD304", f"JobCompletion needs 1 to {_MAX_UPSTREAM_JOBS} upstream jobs, got "
                             f"{len(t.jobs)}", loc, "trigger.job_completion.jobs"))
        for job_id in t.jobs:
            if isinstance(job_id, str) and not job_id.strip().isdigit() and "{" not in job_id:
                out.append(ctx.d("FD304", f"JobCompletion job id {job_id!r} is not a number (a job id is the "
                                 "number in the job's URL)", loc, "trigger.job_completion.jobs"))
            elif isinstance(job_id, int) and not isinstance(job_id, bool) and job_id < 1:
                out.append(ctx.d("FD304", f"JobCompletion job id {job_id} is not a valid job id", loc,
                                 "trigger.job_completion.jobs"))
        if t.if_status not in (None, "SUCCESS", "FAILED", "DONE"):
            out.append(ctx.d("FD304", f"if_status must be SUCCESS, FAILED or DONE, got {t.if_status!r}", loc,
                             "trigger.job_completion.if_status"))
    return out


def _cron(ctx: JobContext, t: Cron) -> list[Diagnostic]:
    """The expression as Quartz 2.3 parses it (what Databricks runs), and the traps it accepts silently: an
    expression that never fires (31 February), one that fires more often than the scheduler starts runs, and
    whatever :mod:`flowdef.quartz` flags as a probable mistake."""
    return [ctx.d(code, message, t.location, path, severity=severity)
            for code, message, path, severity in _cron_findings(t.expression, t.timezone)]


@functools.lru_cache(maxsize=1024)  # a monorepo repeats its schedules: each (expression, zone) is judged once
def _cron_findings(expression: str, timezone: str) -> tuple[tuple[str, str, str, str | None], ...]:
    from flowdef.quartz import QuartzError, check_timezone, parse

    out: list[tuple[str, str, str, str | None]] = []
    path = "schedule.quartz_cron_expression"
    try:
        expr = parse(expression)
    except QuartzError as exc:
        out.append(("FD302", f"invalid Quartz cron expression {expression!r}: {exc.message}", path, None))
        expr = None
    problem = check_timezone(timezone)
    if problem:
        out.append(("FD303", problem, "schedule.timezone_id", None))
    if expr is None:
        return tuple(out)
    for warning in getattr(expr, "warnings", ()):
        out.append(("FD302", f"Quartz expression {expression!r}: {warning}", path, "warning"))
    spacing = _seconds_spacing(expression)
    if spacing is not None and spacing < _MIN_SCHEDULE_SPACING:
        out.append((
            "FD302",
            f"Quartz expression {expression!r} fires every {spacing} second{'s' * (spacing != 1)}, but the "
            f"scheduler starts a run at most every {_MIN_SCHEDULE_SPACING} seconds: runs will be dropped — "
            "use a Continuous trigger for an always-running job",
            path, "warning",
        ))
    if not problem and not _fires(expr, timezone):
        out.append((
            "FD302",
            f"Quartz expression {expression!r} never fires from now on (a date that does not exist, such as "
            "31 February, or a year in the past): the job would never run on schedule",
            path, "warning",
        ))
    return tuple(out)


def _fires(expr, timezone: str) -> bool:
    import datetime

    try:
        return bool(expr.next_fire_times(datetime.datetime.now(datetime.timezone.utc), timezone, 1))
    except Exception:  # noqa: BLE001 - a preview, not a rule: never fail validation on it
        return True


def _seconds_spacing(expression: str) -> int | None:
    """The step of the seconds field when it fires more than once a minute (``*`` -> 1, ``0/5`` -> 5)."""
    fields = expression.split()
    if not fields:
        return None
    seconds = fields[0]
    if seconds == "*":
        return 1
    m = re.fullmatch(r"(?:\*|\d+)/(\d+)", seconds)
    if m and int(m.group(1)) < 60:
        return int(m.group(1))
    return None
