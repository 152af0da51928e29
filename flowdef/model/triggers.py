"""Triggers as values: ``Cron``, ``FileArrival``, ``TableUpdate``, ``Periodic``, ``Continuous``, ``JobCompletion``.

A job has at most one trigger (the Jobs API allows one of ``schedule``, ``continuous`` or ``trigger``); the
compiler knows the wire shape, these classes only express intent.  Example::

    Job("nightly", trigger=Cron.daily(at="02:30", tz="America/Sao_Paulo"))
    Job("ingest", trigger=FileArrival("/Volumes/main/landing/files/", min_time_between_triggers=300))
"""

from __future__ import annotations

import attrs

from flowdef._frozen import frozen
from flowdef._location import Location, caller_location

_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_DAY_ALIASES = {d.lower(): d for d in _DAYS} | {
    "sunday": "SUN", "monday": "MON", "tuesday": "TUE", "wednesday": "WED",
    "thursday": "THU", "friday": "FRI", "saturday": "SAT",
}


def _hm(at: str) -> tuple[int, int, int]:
    bits = at.split(":")
    if not 2 <= len(bits) <= 3 or not all(b.isdigit() for b in bits):
        raise ValueError(f"time must look like 'HH:MM' or 'HH:MM:SS', got {at!r}")
    h, m, s = int(bits[0]), int(bits[1]), int(bits[2]) if len(bits) == 3 else 0
    if not (0 <= h <= 23 and 0 <= m <= 59 and 0 <= s <= 59):
        raise ValueError(f"time out of range: {at!r}")
    return h, m, s


def _day(day: str | int) -> str:
    if isinstance(day, int):
        if not 1 <= day <= 7:
            raise ValueError("day-of-week numbers are Quartz's: 1 = Sunday ... 7 = Saturday")
        return _DAYS[day - 1]
    try:
        return _DAY_ALIASES[day.lower()]
    except KeyError:
        raise ValueError(f"unknown day {day!r}; use MON, TUE, ... or monday, tuesday, ...") from None


def _loc(value: Location | None) -> Location | None:
    return value if value is not None else caller_location()


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

    @classmethod
    def daily(cls, *, at: str = "00:00", tz: str = "UTC", paused: bool = False) -> "Cron":
        """Every day at ``at`` (``HH:MM[:SS]``) in ``tz``."""
        h, m, s = _hm(at)
        return cls(f"{s} {m} {h} * * ?", timezone=tz, paused=paused, location=caller_location())

    @classmethod
    def hourly(cls, *, minute: int = 0, tz: str = "UTC", paused: bool = False) -> "Cron":
        if not 0 <= minute <= 59:
            raise ValueError("minute must be 0..59")
        return cls(f"0 {minute} * * * ?", timezone=tz, paused=paused, location=caller_location())

    @classmethod
    def weekly(
        cls, *, on: str | int | tuple = "MON", at: str = "00:00", tz: str = "UTC", paused: bool = False
    ) -> "Cron":
        """Every week on ``on`` (a day or a tuple of days: ``("MON", "THU")``) at ``at``."""
        h, m, s = _hm(at)
        days = on if isinstance(on, tuple) else (on,)
        return cls(
            f"{s} {m} {h} ? * {','.join(_day(d) for d in days)}",
            timezone=tz, paused=paused, location=caller_location(),
        )

    @classmethod
    def weekdays(cls, *, at: str = "00:00", tz: str = "UTC", paused: bool = False) -> "Cron":
        h, m, s = _hm(at)
        return cls(f"{s} {m} {h} ? * MON-FRI", timezone=tz, paused=paused, location=caller_location())

    @classmethod
    def monthly(cls, *, day: int | str = 1, at: str = "00:00", tz: str = "UTC", paused: bool = False) -> "Cron":
        """Every month on ``day`` (1..31, or ``"L"`` for the last day) at ``at``."""
        h, m, s = _hm(at)
        if not (day == "L" or (isinstance(day, int) and 1 <= day <= 31)):
            raise ValueError("day must be 1..31 or 'L' (last day of the month)")
        return cls(f"{s} {m} {h} {day} * ?", timezone=tz, paused=paused, location=caller_location())


@frozen
class FileArrival:
    """Run when new files land under a Unity Catalog volume path or an external location URL."""

    url: str
    min_time_between_triggers: int | None = attrs.field(default=None, kw_only=True)
    wait_after_last_change: int | None = attrs.field(default=None, kw_only=True)
    paused: bool = attrs.field(default=False, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)


@frozen
class TableUpdate:
    """Run when Unity Catalog tables (``catalog.schema.table``) are updated."""

    tables: tuple[str, ...] = attrs.field(converter=lambda v: (v,) if isinstance(v, str) else tuple(v))
    condition: str = attrs.field(default="ANY_UPDATED", kw_only=True)
    min_time_between_triggers: int | None = attrs.field(default=None, kw_only=True)
    wait_after_last_change: int | None = attrs.field(default=None, kw_only=True)
    paused: bool = attrs.field(default=False, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)


@frozen
class Periodic:
    """Run every ``interval`` ``unit`` (``MINUTES``, ``HOURS``, ``DAYS``, ``WEEKS``)."""

    interval: int
    unit: str = "HOURS"
    paused: bool = attrs.field(default=False, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)


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


@frozen
class Continuous:
    """Keep one run always active; ``task_retry_mode`` is ``NEVER`` or ``ON_FAILURE``; ``maintenance_window``
    (a :class:`MaintenanceWindow`) says when the service may restart it."""

    paused: bool = attrs.field(default=False, kw_only=True)
    task_retry_mode: str | None = attrs.field(default=None, kw_only=True)
    maintenance_window: MaintenanceWindow | None = attrs.field(default=None, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)


@frozen
class JobCompletion:
    """Run when the listed jobs (ids, as strings or ints) complete with ``if_status``."""

    jobs: tuple = attrs.field(converter=tuple)
    workspace_id: str | None = attrs.field(default=None, kw_only=True)
    if_status: str | None = attrs.field(default=None, kw_only=True)
    paused: bool = attrs.field(default=False, kw_only=True)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)


TRIGGER_TYPES = (Cron, FileArrival, TableUpdate, Periodic, Continuous, JobCompletion)
Trigger = Cron | FileArrival | TableUpdate | Periodic | Continuous | JobCompletion
