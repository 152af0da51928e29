"""Job and task settings as values: notifications, health rules, Git source, run-as, permissions, edit mode.

Each groups the Jobs API fields of one concern, so ``Job(...)`` stays readable::

    Job(
        "nightly",
        notifications=Notifications(on_failure=["oncall@example.com", Webhook("a1b2-slack")]),
        health=Health.over(run_duration_seconds=3600),
        git=GitSource.github("https://github.com/acme/etl", branch="main"),
        run_as=RunAs.service_principal("6f1c-...-app-id"),
        permissions=[Permission.service_principal("6f1c-...-app-id", "IS_OWNER"),
                     Permission.group("data-eng", "CAN_MANAGE_RUN")],
    )

Like the rest of the model these only express intent: values are recorded as given (a mis-cased enum stays
mis-cased) and ``flowdef validate`` reports problems at the line that created the value; the compiler alone
knows the wire shape.
"""

from __future__ import annotations

import enum
from typing import Any, Iterable

import attrs

from flowdef._check import BOOL, INT, OPT_BOOL, OPT_STR, STR, STRS, Expect, check_fields
from flowdef._frozen import frozen
from flowdef._location import Location, caller_location


def _loc(value: Location | None) -> Location | None:
    return value if value is not None else caller_location()


def _enum_value(value):
    return value.value if isinstance(value, enum.Enum) else value


class _StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return self.value


# ----------------------------------------------------------------------------------------------------------------
# Notifications


@frozen
class Webhook:
    """A notification destination (Slack, Teams, PagerDuty, a generic webhook, ...) by its destination id, as
    listed under *Settings > Notifications* in the workspace."""

    id: str
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"id": "destination"}, id=STR)


from flowdef.jobsapi.facts import MAX_WEBHOOKS_PER_EVENT, NOTIFICATION_EVENTS  # noqa: E402


def _recipients(value: Any) -> Any:
    """One recipient or a list of them, as a tuple; anything else is kept for the type check to report."""
    if value is None:
        return ()
    if isinstance(value, (str, Webhook)):
        return (value,)
    return tuple(value) if isinstance(value, (list, tuple)) else value


_RECIPIENTS = Expect("an e-mail address, a Webhook(...) or a list of them",
                     lambda v: isinstance(v, tuple) and all(isinstance(x, (str, Webhook)) for x in v))


@frozen
class Notifications:
    """Who hears about runs: per event a list of recipients, each an e-mail address or a :class:`Webhook`.

    ``Notifications(on_failure=["oncall@example.com", Webhook("pagerduty-dest-id")])`` compiles to
    ``email_notifications.on_failure`` and ``webhook_notifications.on_failure``.  Events: ``on_start``,
    ``on_success``, ``on_failure``, ``on_duration_warning_threshold_exceeded`` (needs a
    ``Health.over(run_duration_seconds=...)`` rule) and ``on_streaming_backlog_exceeded``.  At most 3 webhooks per
    event.  ``no_alert_for_skipped_runs`` / ``no_alert_for_canceled_runs`` mute those runs;
    ``alert_on_last_attempt`` (tasks only) holds start/failure notices until the final retry.
    """

    on_start: tuple = attrs.field(default=(), kw_only=True, converter=_recipients)
    on_success: tuple = attrs.field(default=(), kw_only=True, converter=_recipients)
    on_failure: tuple = attrs.field(default=(), kw_only=True, converter=_recipients)
    on_duration_warning_threshold_exceeded: tuple = attrs.field(default=(), kw_only=True, converter=_recipients)
    on_streaming_backlog_exceeded: tuple = attrs.field(default=(), kw_only=True, converter=_recipients)
    no_alert_for_skipped_runs: bool | None = attrs.field(default=None, kw_only=True)
    no_alert_for_canceled_runs: bool | None = attrs.field(default=None, kw_only=True)
    alert_on_last_attempt: bool | None = attrs.field(default=None, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, **{e: _RECIPIENTS for e in NOTIFICATION_EVENTS}, no_alert_for_skipped_runs=OPT_BOOL,
                     no_alert_for_canceled_runs=OPT_BOOL, alert_on_last_attempt=OPT_BOOL)

    def events(self) -> list[tuple[str, tuple]]:
        """(event, recipients) in the API's order, empty events left out."""
        return [(e, getattr(self, e)) for e in NOTIFICATION_EVENTS if getattr(self, e)]


# ----------------------------------------------------------------------------------------------------------------
# Health


class HealthMetric(_StrEnum):
    RUN_DURATION_SECONDS = "RUN_DURATION_SECONDS"
    STREAMING_BACKLOG_BYTES = "STREAMING_BACKLOG_BYTES"
    STREAMING_BACKLOG_RECORDS = "STREAMING_BACKLOG_RECORDS"
    STREAMING_BACKLOG_SECONDS = "STREAMING_BACKLOG_SECONDS"
    STREAMING_BACKLOG_FILES = "STREAMING_BACKLOG_FILES"


from flowdef.jobsapi.facts import HEALTH_OPS  # noqa: E402


@frozen
class HealthRule:
    """``metric`` ``op`` ``value``: the run is unhealthy when the metric exceeds ``value`` (the API knows only
    ``GREATER_THAN``)."""

    metric: str = attrs.field(converter=_enum_value)
    value: int
    op: str = attrs.field(default="GREATER_THAN", kw_only=True)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"metric": "RUN_DURATION_SECONDS", "value": 0}, metric=STR, value=INT, op=STR)


def _rules(value: Any) -> Any:
    if isinstance(value, HealthRule):
        return (value,)
    return tuple(value) if isinstance(value, (list, tuple)) else value


_RULES = Expect("a list of HealthRule(...)", lambda v: isinstance(v, tuple) and all(
    isinstance(x, HealthRule) for x in v))


@frozen
class Health:
    """Health rules of a job or task.  Usually built with :meth:`over`::

        Health.over(run_duration_seconds=3600)               # warn when a run takes longer than an hour
        Health([HealthRule("STREAMING_BACKLOG_BYTES", 10**9)])
    """

    rules: tuple[HealthRule, ...] = attrs.field(default=(), converter=_rules)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, rules=_RULES)

    @classmethod
    def over(
        cls,
        *,
        run_duration_seconds: int | None = None,
        streaming_backlog_bytes: int | None = None,
        streaming_backlog_records: int | None = None,
        streaming_backlog_seconds: int | None = None,
        streaming_backlog_files: int | None = None,
    ) -> "Health":
        """One ``GREATER_THAN`` rule per threshold given."""
        given = {
            HealthMetric.RUN_DURATION_SECONDS: run_duration_seconds,
            HealthMetric.STREAMING_BACKLOG_BYTES: streaming_backlog_bytes,
            HealthMetric.STREAMING_BACKLOG_RECORDS: streaming_backlog_records,
            HealthMetric.STREAMING_BACKLOG_SECONDS: streaming_backlog_seconds,
            HealthMetric.STREAMING_BACKLOG_FILES: streaming_backlog_files,
        }
        rules = tuple(HealthRule(m.value, _threshold(m, v)) for m, v in given.items() if v is not None)
        return cls(rules, location=caller_location())

    def metrics(self) -> set[str]:
        return {r.metric for r in self.rules}


def _threshold(metric: HealthMetric, value: Any) -> int:
    """``Health.over(run_duration_seconds="60")``: reported as the argument the user wrote, not as a rule field."""
    from flowdef._check import check

    return check(value, INT, f"Health.over({metric.value.lower()}=...)", 0)


# ----------------------------------------------------------------------------------------------------------------
# Git source


class GitProvider(_StrEnum):
    """The wire values are camel-cased; the SDK silently drops any other spelling."""

    GITHUB = "gitHub"
    GITHUB_ENTERPRISE = "gitHubEnterprise"
    GITLAB = "gitLab"
    GITLAB_ENTERPRISE = "gitLabEnterpriseEdition"
    BITBUCKET_CLOUD = "bitbucketCloud"
    BITBUCKET_SERVER = "bitbucketServer"
    AZURE_DEVOPS = "azureDevOpsServices"
    AWS_CODECOMMIT = "awsCodeCommit"


def _patterns(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    return tuple(value) if isinstance(value, (list, tuple)) else value


@frozen
class GitSource:
    """The remote repository tasks read their code from, at exactly one of ``branch``, ``tag`` or ``commit``.

    With a Git source, relative notebook / Python file / dbt paths are paths *in the repository* (``source:
    GIT``, nothing uploaded); absolute workspace paths and flowdef's own generated files (function-task runtime,
    rendered SQL) stay ``source: WORKSPACE``.  Use the named constructors::

        GitSource.github("https://github.com/acme/etl", branch="main")
        GitSource.azure_devops("https://dev.azure.com/acme/_git/etl", tag="v1.4.0")
    """

    url: str
    provider: str = attrs.field(converter=_enum_value)
    branch: str | None = attrs.field(default=None, kw_only=True)
    tag: str | None = attrs.field(default=None, kw_only=True)
    commit: str | None = attrs.field(default=None, kw_only=True)
    sparse_checkout: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_patterns)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"url": "https://example.com/repository", "provider": GitProvider.GITHUB.value},
                     url=STR, provider=STR, branch=OPT_STR, tag=OPT_STR, commit=OPT_STR, sparse_checkout=STRS)

    @classmethod
    def _make(cls, provider: GitProvider, url: str, branch, tag, commit, sparse_checkout) -> "GitSource":
        return cls(url, provider.value, branch=branch, tag=tag, commit=commit, sparse_checkout=sparse_checkout,
                   location=caller_location())

    @classmethod
    def github(cls, url: str, *, branch: str | None = None, tag: str | None = None, commit: str | None = None,
               sparse_checkout: Iterable[str] = ()) -> "GitSource":
        return cls._make(GitProvider.GITHUB, url, branch, tag, commit, sparse_checkout)

    @classmethod
    def github_enterprise(cls, url: str, *, branch: str | None = None, tag: str | None = None,
                          commit: str | None = None, sparse_checkout: Iterable[str] = ()) -> "GitSource":
        return cls._make(GitProvider.GITHUB_ENTERPRISE, url, branch, tag, commit, sparse_checkout)

    @classmethod
    def gitlab(cls, url: str, *, branch: str | None = None, tag: str | None = None, commit: str | None = None,
               sparse_checkout: Iterable[str] = ()) -> "GitSource":
        return cls._make(GitProvider.GITLAB, url, branch, tag, commit, sparse_checkout)

    @classmethod
    def gitlab_enterprise(cls, url: str, *, branch: str | None = None, tag: str | None = None,
                          commit: str | None = None, sparse_checkout: Iterable[str] = ()) -> "GitSource":
        return cls._make(GitProvider.GITLAB_ENTERPRISE, url, branch, tag, commit, sparse_checkout)

    @classmethod
    def bitbucket_cloud(cls, url: str, *, branch: str | None = None, tag: str | None = None,
                        commit: str | None = None, sparse_checkout: Iterable[str] = ()) -> "GitSource":
        return cls._make(GitProvider.BITBUCKET_CLOUD, url, branch, tag, commit, sparse_checkout)

    @classmethod
    def bitbucket_server(cls, url: str, *, branch: str | None = None, tag: str | None = None,
                         commit: str | None = None, sparse_checkout: Iterable[str] = ()) -> "GitSource":
        return cls._make(GitProvider.BITBUCKET_SERVER, url, branch, tag, commit, sparse_checkout)

    @classmethod
    def azure_devops(cls, url: str, *, branch: str | None = None, tag: str | None = None,
                     commit: str | None = None, sparse_checkout: Iterable[str] = ()) -> "GitSource":
        return cls._make(GitProvider.AZURE_DEVOPS, url, branch, tag, commit, sparse_checkout)

    @classmethod
    def aws_codecommit(cls, url: str, *, branch: str | None = None, tag: str | None = None,
                       commit: str | None = None, sparse_checkout: Iterable[str] = ()) -> "GitSource":
        return cls._make(GitProvider.AWS_CODECOMMIT, url, branch, tag, commit, sparse_checkout)


# ----------------------------------------------------------------------------------------------------------------
# Identity and access


@frozen
class RunAs:
    """The identity runs execute as: exactly one of a user, a service principal (application id) or a group."""

    user_name: str | None = attrs.field(default=None, kw_only=True)
    service_principal_name: str | None = attrs.field(default=None, kw_only=True)
    group_name: str | None = attrs.field(default=None, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, user_name=OPT_STR, service_principal_name=OPT_STR, group_name=OPT_STR)

    @classmethod
    def user(cls, user_name: str) -> "RunAs":
        return cls(user_name=user_name, location=caller_location())

    @classmethod
    def service_principal(cls, application_id: str) -> "RunAs":
        return cls(service_principal_name=application_id, location=caller_location())

    @classmethod
    def group(cls, group_name: str) -> "RunAs":
        """Private Preview in the Jobs API."""
        return cls(group_name=group_name, location=caller_location())

    def principals(self) -> list[tuple[str, str]]:
        return [(f, getattr(self, f)) for f in ("user_name", "service_principal_name", "group_name")
                if getattr(self, f) is not None]


class PermissionLevel(_StrEnum):
    CAN_VIEW = "CAN_VIEW"
    CAN_MANAGE_RUN = "CAN_MANAGE_RUN"
    CAN_MANAGE = "CAN_MANAGE"
    IS_OWNER = "IS_OWNER"


@frozen
class Permission:
    """One grant of the job's access-control list (applied after deploy with ``PUT /api/2.0/permissions/jobs/{id}``,
    which *replaces* every direct grant: list the owner too — exactly one ``IS_OWNER``, a user or a service
    principal).  ``Permission.user("ana@example.com", "CAN_MANAGE_RUN")``."""

    level: str = attrs.field(converter=_enum_value)
    user_name: str | None = attrs.field(default=None, kw_only=True)
    group_name: str | None = attrs.field(default=None, kw_only=True)
    service_principal_name: str | None = attrs.field(default=None, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"level": PermissionLevel.CAN_VIEW.value}, level=STR, user_name=OPT_STR,
                     group_name=OPT_STR, service_principal_name=OPT_STR)

    @classmethod
    def user(cls, user_name: str, level: PermissionLevel | str) -> "Permission":
        return cls(level, user_name=user_name, location=caller_location())

    @classmethod
    def group(cls, group_name: str, level: PermissionLevel | str) -> "Permission":
        return cls(level, group_name=group_name, location=caller_location())

    @classmethod
    def service_principal(cls, application_id: str, level: PermissionLevel | str) -> "Permission":
        return cls(level, service_principal_name=application_id, location=caller_location())

    def principals(self) -> list[tuple[str, str]]:
        return [(f, getattr(self, f)) for f in ("user_name", "group_name", "service_principal_name")
                if getattr(self, f) is not None]


class EditMode(_StrEnum):
    """``UI_LOCKED``: the job can only be changed through code (what bundles deploy); ``EDITABLE``: the UI may
    edit it (the next deploy overwrites such edits)."""

    UI_LOCKED = "UI_LOCKED"
    EDITABLE = "EDITABLE"


SETTING_TYPES = (Notifications, Health, GitSource, RunAs, Permission)
