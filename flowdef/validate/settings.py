"""Rules of job and task settings: notifications, health rules, Git source, run-as, permissions, tags, edit mode.

* enum values are spelled as the API spells them (the SDK silently drops anything else) — FD513;
* notifications (addresses, webhooks, when they can fire) — FD514; permissions (levels, one owner) — FD515;
* run-as, Git source, health rules and the documented length limits of those fields — FD501 / FD502.

Elsewhere: each task kind's own fields in :mod:`flowdef.wire.kind_rules` (run by :mod:`.structure`), raw
settings in :mod:`.raw`, references between jobs in :mod:`.jobrefs`, compute in :mod:`.compute`.
"""

from __future__ import annotations

import re

from flowdef.diagnostics import Diagnostic
from flowdef.model.settings import (
    HEALTH_OPS, MAX_WEBHOOKS_PER_EVENT, NOTIFICATION_EVENTS, EditMode, GitProvider, HealthMetric, Notifications,
    PermissionLevel, Webhook,
)
from flowdef.validate.context import JobContext
from flowdef.validate.raw import RawFields
from flowdef.wire.kind_rules import check_enum as _enum
from flowdef.wire.kind_rules import enum_hint

__all__ = ["check", "enum_hint"]

from flowdef.jobsapi.facts import (  # Jobs API limits, written once
    IDENTITY_TAGS, MAX_GIT_BRANCH, MAX_GIT_COMMIT, MAX_GIT_TAG, MAX_GIT_URL,
)

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")


def check(ctx: JobContext) -> list[Diagnostic]:
    """The per-job rules."""
    job = ctx.job
    out: list[Diagnostic] = []
    raw = RawFields(ctx)
    out += raw.job_fields()
    for task, path in ctx.task_paths:
        out += raw.task_fields(task, path)
        if task.notifications is not None:  # (both return nothing for None: skip the calls for most tasks)
            out += _notifications(ctx, task.notifications, path, task.location, task.health, task_level=True)
        if task.health is not None:
            out += _health(ctx, task.health, path, task.location)
    out += _notifications(ctx, job.notifications, "", job.location, job.health, task_level=False)
    out += _health(ctx, job.health, "", job.location)
    out += _git(ctx)
    out += _run_as(ctx)
    out += _permissions(ctx)
    out += _tags(ctx)
    if job.edit_mode is not None:
        out += _enum(ctx, "edit_mode", job.edit_mode, [m.value for m in EditMode], job.location, "edit_mode")
    return out


def _join(path: str, leaf: str) -> str:
    return f"{path}.{leaf}" if path and leaf else path or leaf


# ----------------------------------------------------------------------------------------------------------------
# settings


def _notifications(ctx, n: Notifications | None, path: str, location, health, *, task_level: bool) -> list[Diagnostic]:
    if n is None:
        return []
    out = []
    loc = n.location or location
    for event in NOTIFICATION_EVENTS:
        recipients = getattr(n, event)
        hooks = [r for r in recipients if isinstance(r, Webhook)]
        if len(hooks) > MAX_WEBHOOKS_PER_EVENT:
            out.append(ctx.d("FD502", f"{len(hooks)} webhooks for {event}; at most {MAX_WEBHOOKS_PER_EVENT} "
                             "destinations per event are allowed", hooks[MAX_WEBHOOKS_PER_EVENT].location or loc,
                             _join(path, f"webhook_notifications.{event}")))
        seen: set = set()
        for i, r in enumerate(recipients):
            where = _join(path, f"{'webhook' if isinstance(r, Webhook) else 'email'}_notifications.{event}[{i}]")
            if isinstance(r, Webhook):
                if not isinstance(r.id, str) or not r.id.strip():
                    out.append(ctx.d("FD514", f"webhook in {event} has an empty destination id", r.location or loc,
                                     where))
            elif not isinstance(r, str):
                out.append(ctx.d("FD514", f"{event} recipient {r!r} must be an e-mail address or a Webhook(id)",
                                 loc, where))
            elif not EMAIL.match(r):
                hint = (" (for a notification destination write Webhook(" + repr(r) + "))" if "@" not in r else "")
                out.append(ctx.d("FD514", f"{r!r} in {event} is not an e-mail address{hint}", loc, where))
            key = r.id if isinstance(r, Webhook) else r
            if key in seen:
                out.append(ctx.d("FD514", f"{key!r} is listed twice in {event}", loc, where, severity="warning"))
            seen.add(key)
    if n.alert_on_last_attempt is not None and not task_level:
        out.append(ctx.d("FD514", "alert_on_last_attempt only exists on tasks (it holds start/failure notices until "
                         "the last retry); move it to the task's notifications=", loc,
                         "notification_settings.alert_on_last_attempt"))
    metrics = health.metrics() if health is not None else set()
    scope = "task" if task_level else "job"
    if n.on_duration_warning_threshold_exceeded and HealthMetric.RUN_DURATION_SECONDS.value not in metrics:
        out.append(ctx.d(
            "FD514", f"on_duration_warning_threshold_exceeded is never sent: the {scope} has no RUN_DURATION_SECONDS "
            f"health rule; add health=Health.over(run_duration_seconds=...) to the {scope}", loc,
            _join(path, _event_path(n, "on_duration_warning_threshold_exceeded")), severity="warning"))
    if n.on_streaming_backlog_exceeded and not any(m.startswith("STREAMING_BACKLOG") for m in metrics):
        out.append(ctx.d(
            "FD514", f"on_streaming_backlog_exceeded is never sent: the {scope} has no STREAMING_BACKLOG_* health "
            "rule; add e.g. health=Health.over(streaming_backlog_seconds=...)", loc,
            _join(path, _event_path(n, "on_streaming_backlog_exceeded")), severity="warning"))
    return out


def _event_path(n: Notifications, event: str) -> str:
    emails = any(not isinstance(r, Webhook) for r in getattr(n, event))
    return f"{'email' if emails else 'webhook'}_notifications.{event}"


def _health(ctx, health, path: str, location) -> list[Diagnostic]:
    if health is None:
        return []
    out = []
    loc = health.location or location
    seen = set()
    metrics = [m.value for m in HealthMetric]
    for i, rule in enumerate(health.rules):
        where = _join(path, f"health.rules[{i}]")
        out += _enum(ctx, "health metric", rule.metric, metrics, loc, f"{where}.metric")
        if rule.op != "GREATER_THAN":
            hint = "; it is the only operator" if str(rule.op).strip() in (">", "gt", "GT", "greater_than") else ""
            out.append(ctx.d("FD513", f"health rule op {rule.op!r} is not valid: the API knows only "
                             f"{HEALTH_OPS[0]!r}{hint} (a rule fires when the metric exceeds its value)", loc,
                             f"{where}.op"))
        if isinstance(rule.value, bool) or not isinstance(rule.value, int) or rule.value < 0:
            out.append(ctx.d("FD501", f"health rule value must be a non-negative integer, got {rule.value!r}", loc,
                             f"{where}.value"))
        if rule.metric in seen:
            out.append(ctx.d("FD501", f"health metric {rule.metric} has two rules; keep one", loc, where))
        seen.add(rule.metric)
    return out


def _git(ctx) -> list[Diagnostic]:
    git = ctx.job.git
    if git is None:
        return []
    out = []
    loc = git.location or ctx.job.location
    out += _enum(ctx, "git provider", git.provider, [p.value for p in GitProvider], loc, "git_source.git_provider")
    if not str(git.url or "").strip():
        out.append(ctx.d("FD501", "git source needs a repository url", loc, "git_source.git_url"))
    elif len(git.url) > MAX_GIT_URL:
        out.append(ctx.d("FD502", f"git url is {len(git.url)} characters; at most {MAX_GIT_URL}", loc,
                         "git_source.git_url"))
    refs = [(name, getattr(git, name)) for name in ("branch", "tag", "commit") if getattr(git, name) is not None]
    if len(refs) != 1:
        got = ", ".join(n for n, _ in refs) or "none"
        out.append(ctx.d("FD501", f"git source needs exactly one of branch=, tag= or commit= (got {got})", loc,
                         "git_source"))
    limits = {"branch": MAX_GIT_BRANCH, "tag": MAX_GIT_TAG, "commit": MAX_GIT_COMMIT}
    for name, value in refs:
        if not str(value).strip():
            out.append(ctx.d("FD501", f"git {name} is empty", loc, f"git_source.git_{name}"))
        elif len(value) > limits[name]:
            out.append(ctx.d("FD502", f"git {name} is {len(value)} characters; at most {limits[name]}", loc,
                             f"git_source.git_{name}"))
    for i, pattern in enumerate(git.sparse_checkout):
        if not isinstance(pattern, str) or not pattern.strip():
            out.append(ctx.d("FD501", f"sparse checkout pattern {pattern!r} must be a non-empty path", loc,
                             f"git_source.sparse_checkout.patterns[{i}]"))
    return out


def _run_as(ctx) -> list[Diagnostic]:
    run_as = ctx.job.run_as
    if run_as is None:
        return []
    loc = run_as.location or ctx.job.location
    principals = run_as.principals()
    if len(principals) != 1:
        got = ", ".join(f for f, _ in principals) or "none"
        return [ctx.d("FD501", f"run_as needs exactly one of a user, a service principal or a group (got {got}); use "
                      "RunAs.user(...), RunAs.service_principal(...) or RunAs.group(...)", loc, "run_as")]
    field, name = principals[0]
    if not isinstance(name, str) or not name.strip():
        return [ctx.d("FD501", f"run_as {field} is empty", loc, f"run_as.{field}")]
    return []


def _permissions(ctx) -> list[Diagnostic]:
    perms = ctx.job.permissions
    if not perms:
        return []
    out = []
    levels = [lv.value for lv in PermissionLevel]
    owners = []
    seen: dict[tuple, int] = {}
    for i, p in enumerate(perms):
        loc = p.location or ctx.job.location
        where = f"permissions[{i}]"
        if p.level not in levels:
            out.append(ctx.d("FD515", f"permission level {p.level!r} is not one of {', '.join(levels)}"
                             f"{enum_hint(p.level, levels)}", loc, f"{where}.permission_level"))
        principals = p.principals()
        if len(principals) != 1 or not str(principals[0][1]).strip():
            out.append(ctx.d("FD515", "a permission names exactly one user, group or service principal; use "
                             "Permission.user(...), Permission.group(...) or Permission.service_principal(...)",
                             loc, where))
            continue
        principal = principals[0]
        if principal in seen:
            out.append(ctx.d("FD515", f"{principal[0].replace('_name', '').replace('_', ' ')} {principal[1]!r} is "
                             f"granted twice (permissions[{seen[principal]}] and [{i}]); keep one level", loc, where))
        seen[principal] = i
        if p.level == "IS_OWNER":
            owners.append((i, p))
            if principal[0] == "group_name":
                out.append(ctx.d("FD515", f"group {principal[1]!r} cannot own a job: the owner is a user or a service "
                                 "principal", loc, where))
    if not owners:
        out.append(ctx.d("FD515", "permissions name no owner: the permissions API replaces every direct grant, so "
                         "include exactly one IS_OWNER, e.g. Permission.service_principal('<app-id>', 'IS_OWNER')",
                         perms[0].location or ctx.job.location, "permissions"))
    for i, p in owners[1:]:
        out.append(ctx.d("FD515", f"a job has exactly one owner; permissions[{owners[0][0]}] is already IS_OWNER",
                         p.location or ctx.job.location, f"permissions[{i}]"))
    return out


def _tags(ctx) -> list[Diagnostic]:
    out = []
    for source, tags, loc in (("job", ctx.job.tags, ctx.job.location), ("target", ctx.target.tags, None)):
        for name, _ in tags:
            if name in IDENTITY_TAGS:
                where = f" of target {ctx.target.name!r}" if source == "target" else ""
                out.append(ctx.d("FD501", f"tag {name!r}{where} is flowdef's identity tag (set by the compiler, used "
                                 "by deploy to find the job); rename yours", loc, f"tags.{name}"))
    return out
