"""Triggers as values: ``Cron``, ``FileArrival``, ``TableUpdate``, ``Periodic``, ``Continuous``, ``JobCompletion``.

A job has at most one trigger (the Jobs API allows one of ``schedule``, ``continuous`` or ``trigger``); the
compiler knows the wire shape, these classes only express intent.  Example::

    Job("nightly", trigger=Cron.daily(at="02:30", timezone="America/Sao_Paulo"))
    Job("ingest", trigger=FileArrival("/Volumes/main/landing/files/", min_time_between_triggers=300))
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import attrs

from flowdef._check import BOOL, INT, OPT_INT, OPT_STR, STR, STRS, Expect, check, check_fields, instance, optional, \
    refuse_keywords
from flowdef._frozen import frozen
from flowdef._location import Location, caller_location
from flowdef.errors import DefinitionError

# One spelling for every constructor of a cron schedule: ``timezone=`` (as in ``Cron(...)``, ``MaintenanceWindow``
# and the API's ``timezone_id``); the shorthands used to say ``tz=``.
_SPELLED = {"tz": "timezone"}

_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_DAY_ALIASES = {d.lower(): d for d in _DAYS} | {
    "sunday": "SUN", "monday": "MON", "tuesday": "TUE", "wednesday": "WED",
    "thursday": "THU", "friday": "FRI", "saturday": "SAT",
}


def _hm(at: Any, method: str) -> tuple[int, int, int]:
    """``"HH:MM[:SS]"``; anything else raises a located DefinitionError (a schedule cannot be built from it)."""
    at = check(at, STR, f"Cron.{method}(at=...)", "00:00")
    bits = at.split(":")
    if not 2 <= len(bits) <= 3 or not all(b.isdigit() for b in bits):
        raise DefinitionError(f"Cron.{method}(at=...) must look like 'HH:MM' or 'HH:MM:SS', got {at!r}",
                              location=caller_location(), code="FD601")
    h, m, s = int(bits[0]), int(bits[1]), int(bits[2]) if len(bits) == 3 else 0
    if not (0 <= h <= 23 and 0 <= m <= 59 and 0 <= s <= 59):
        raise DefinitionError(f"Cron.{method}(at=...) is out of range (00:00 .. 23:59:59): {at!r}",
                              location=caller_location(), code="FD601")
    return h, m, s


def _day(day: Any) -> str:
    if isinstance(day, int) and not isinstance(day, bool):
        if not 1 <= day <= 7:
            raise DefinitionError("Cron.weekly(on=...): day-of-week numbers are Quartz's: 1 = Sunday ... "
                                  f"7 = Saturday, got {day}", location=caller_location(), code="FD601")
        return _DAYS[day - 1]
    if isinstance(day, str) and day.lower() in _DAY_ALIASES:
        return _DAY_ALIASES[day.lower()]
    raise DefinitionError(f"Cron.weekly(on=...): unknown day {day!r}; use MON, TUE, ... or monday, tuesday, ... "
                          "(or a tuple of them)", location=caller_location(), code="FD601")


def _loc(value: Location | None) -> Location | None:
    return value if value is not None else caller_location()


def _strs(value: Any, single: type | tuple[type, ...] = str) -> Any:
    """One value or a list of them as a tuple; anything else is kept for the type check to report."""
    if isinstance(value, single) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping, set, frozenset)):
        return tuple(value)  # a list, a tuple, a range, a generator (sets have no order: refused)
    return value


def _is_job(v: Any) -> bool:
    """A flowdef ``Job`` (the DSL builds on the model, so the model cannot import it)."""
    return type(v).__name__ == "Job" and type(v).__module__ == "flowdef.dsl.job"


_ID = Expect("a job id (int or string)", lambda v: isinstance(v, (str, int)) and not isinstance(v, bool))
_JOB_IDS = Expect("a list of jobs (a flowdef Job, a job id or a job key)",
                  lambda v: isinstance(v, tuple) and all(_ID.test(x) or _is_job(x) for x in v))


@frozen
class Cron:
    """A Quartz cron schedule (seconds first; day-of-week 1 = Sunday; one of the day fields must be ``?``).

    >>> Cron("0 30 2 * * ?", timezone="Europe/Berlin").expression
    '0 30 2 * * ?'
    """

    expression: str
    timezone: str = attrs.field(default="UTC", kw_only=True)
    paused: bool = attrs.field(default=False, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"expression": "0 0 0 * * ?"}, expression=STR, timezone=STR, paused=BOOL)

    @classmethod
    def daily(cls, *, at: str = "00:00", timezone: str = "UTC", paused: bool = False, **misspelled: Any) -> "Cron":
        """Every day at ``at`` (``HH:MM[:SS]``) in ``timezone``."""
        refuse_keywords("Cron.daily()", misspelled, _SPELLED)
        h, m, s = _hm(at, "daily")
        return cls(f"{s} {m} {h} * * ?", timezone=timezone, paused=paused, location=caller_location())

    @classmethod
    def hourly(cls, *, minute: int = 0, timezone: str = "UTC", paused: bool = False, **misspelled: Any) -> "Cron":
        """Every hour at ``minute`` (0..59)."""
        refuse_keywords("Cron.hourly()", misspelled, _SPELLED)
        minute = check(minute, INT, "Cron.hourly(minute=...)", 0)
        if not 0 <= minute <= 59:
            raise DefinitionError(f"Cron.hourly(minute=...) must be 0..59, got {minute}",
                                  location=caller_location(), code="FD601")
        return cls(f"0 {minute} * * * ?", timezone=timezone, paused=paused, location=caller_location())

    @classmethod
    def weekly(cls, *, on: str | int | tuple = "MON", at: str = "00:00", timezone: str = "UTC",
               paused: bool = False, **misspelled: Any) -> "Cron":
        """Every week on ``on`` (a day or a tuple of days: ``("MON", "THU")``) at ``at``."""
        refuse_keywords("Cron.weekly()", misspelled, _SPELLED)
        h, m, s = _hm(at, "weekly")
        days = tuple(on) if isinstance(on, (tuple, list)) else (on,)
        return cls(
            f"{s} {m} {h} ? * {','.join(_day(d) for d in days)}",
            timezone=timezone, paused=paused, location=caller_location(),
        )

    @classmethod
    def weekdays(cls, *, at: str = "00:00", timezone: str = "UTC", paused: bool = False,
                 **misspelled: Any) -> "Cron":
        """Monday to Friday at ``at``."""
        refuse_keywords("Cron.weekdays()", misspelled, _SPELLED)
        h, m, s = _hm(at, "weekdays")
        return cls(f"{s} {m} {h} ? * MON-FRI", timezone=timezone, paused=paused, location=caller_location())

    @classmethod
    def monthly(cls, *, day: int | str = 1, at: str = "00:00", timezone: str = "UTC", paused: bool = False,
                **misspelled: Any) -> "Cron":
        """Every month on ``day`` (1..31, or ``"L"`` for the last day) at ``at``."""
        refuse_keywords("Cron.monthly()", misspelled, _SPELLED)
        h, m, s = _hm(at, "monthly")
        if not (day == "L" or (isinstance(day, int) and not isinstance(day, bool) and 1 <= day <= 31)):
            raise DefinitionError(f"Cron.monthly(day=...) must be 1..31 or 'L' (last day of the month), got "
                                  f"{day!r}", location=caller_location(), code="FD601")
        return cls(f"{s} {m} {h} {day} * ?", timezone=timezone, paused=paused, location=caller_location())


@frozen
class FileArrival:
    """Run when new files land under a Unity Catalog volume path or an external location URL."""

    url: str
    min_time_between_triggers: int | None = attrs.field(default=None, kw_only=True)
    wait_after_last_change: int | None = attrs.field(default=None, kw_only=True)
    paused: bool = attrs.field(default=False, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"url": "/Volumes/catalog/schema/volume/"}, url=STR,
                     min_time_between_triggers=OPT_INT, wait_after_last_change=OPT_INT, paused=BOOL)


@frozen
class TableUpdate:
    """Run when Unity Catalog tables (``catalog.schema.table``) are updated."""

    tables: tuple[str, ...] = attrs.field(converter=lambda v: _strs(v))
    condition: str = attrs.field(default="ANY_UPDATED", kw_only=True)
    min_time_between_triggers: int | None = attrs.field(default=None, kw_only=True)
    wait_after_last_change: int | None = attrs.field(default=None, kw_only=True)
    paused: bool = attrs.field(default=False, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"tables": ("catalog.schema.table",)}, tables=STRS, condition=STR,
                     min_time_between_triggers=OPT_INT, wait_after_last_change=OPT_INT, paused=BOOL)


@frozen
class Periodic:
    """Run every ``interval`` ``unit`` (``MINUTES``, ``HOURS``, ``DAYS``, ``WEEKS``)."""

    interval: int
    unit: str = "HOURS"
    paused: bool = attrs.field(default=False, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"interval": 1}, interval=INT, unit=STR, paused=BOOL)


_WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def _weekday(day: str) -> str:
    """``"SUN"``, ``"sunday"`` -> ``"SUNDAY"`` (the API's spelling); anything else is kept for validation to report."""
    if not isinstance(day, str):
        return day
    wanted = day.strip().upper()
    for full in _WEEKDAYS:
        if full == wanted or full[:3] == wanted:
            return full
    return day


@frozen
class MaintenanceWindow:
    """When a continuous job may be restarted for maintenance: a weekly hour (0-23) in a time zone."""

    start_hour: int
    day_of_week: str = attrs.field(converter=_weekday)
    timezone: str = attrs.field(default="UTC", kw_only=True)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"start_hour": 0, "day_of_week": "SUNDAY"}, start_hour=INT, day_of_week=STR,
                     timezone=STR)


@frozen
class Continuous:
    """Keep one run always active; ``task_retry_mode`` is ``NEVER`` or ``ON_FAILURE``; ``maintenance_window``
    (a :class:`MaintenanceWindow`) says when the service may restart it."""

    paused: bool = attrs.field(default=False, kw_only=True)
    task_retry_mode: str | None = attrs.field(default=None, kw_only=True)
    maintenance_window: MaintenanceWindow | None = attrs.field(default=None, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, paused=BOOL, task_retry_mode=OPT_STR,
                     maintenance_window=optional(instance(MaintenanceWindow, "a MaintenanceWindow(hour, day)")))


@frozen
class JobCompletion:
    """Run when the listed jobs (ids, as strings or ints) complete with ``if_status``."""

    jobs: tuple = attrs.field(converter=lambda v: (v,) if _is_job(v) else _strs(v, (str, int)))
    workspace_id: str | None = attrs.field(default=None, kw_only=True)
    if_status: str | None = attrs.field(default=None, kw_only=True)
    paused: bool = attrs.field(default=False, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"jobs": ("0",)}, jobs=_JOB_IDS, workspace_id=optional(_ID), if_status=OPT_STR,
                     paused=BOOL)


TRIGGER_TYPES = (Cron, FileArrival, TableUpdate, Periodic, Continuous, JobCompletion)
Trigger = Cron | FileArrival | TableUpdate | Periodic | Continuous | JobCompletion
