"""Quartz cron expressions exactly as Databricks (Quartz 2.3.2) evaluates them.

Public API::

    from flowdef.quartz import CronExpression, QuartzError, parse, describe, check_timezone, next_fire_times

    expr = parse("0 30 2 ? * MON-FRI")          # QuartzError on an invalid expression
    expr.next_fire_times(after, "Europe/Berlin", 5)   # aware UTC datetimes, strictly after `after`
    next_fire_times("0 0 12 ? * 6#3", tz="UTC", after=None, count=5)
    describe("0 30 2 ? * MON-FRI")              # 'At 02:30:00, Monday through Friday'
    check_timezone("Europe/Berln")              # "unknown timezone 'Europe/Berln'; did you mean ...?"

The parser accepts and rejects exactly what ``org.quartz.CronExpression`` does and
the fire times are those of ``CronExpression.getNextValidTimeAfter`` in the given
``java.util.TimeZone`` (including its DST behaviour); both are checked against the
real library in ``tests/test_quartz.py``.  Pure standard library; importing this
module builds no tables.
"""

from __future__ import annotations

import datetime as _dt

from ._common import FIELD_NAMES, QuartzError

__all__ = [
    "CronExpression",
    "QuartzError",
    "parse",
    "describe",
    "check_timezone",
    "next_fire_times",
]

_UTC = _dt.timezone.utc
_MIN_AFTER = -86400  # 1969-12-31T00:00:00Z; time-zone data is verified against Java from 1969 on
_YEAR_3001 = 32535216000  # 3001-01-01T00:00:00Z


class CronExpression:
    """A parsed Quartz cron expression (create it with :func:`parse`).

    The value sets follow Quartz: ``seconds`` 0-59, ``minutes``, ``hours``,
    ``days_of_month`` 1-31, ``months`` 1-12, ``days_of_week`` 1-7 (1 = Sunday), ``years``;
    ``day_of_month_unspecified`` / ``day_of_week_unspecified`` tell which day field is '?'.
    ``warnings`` lists things Quartz accepts silently but that are probably mistakes.
    """

    __slots__ = (
        "expression",
        "fields",
        "_seconds",
        "_minutes",
        "_hours",
        "_days_of_month",
        "_months",
        "_days_of_week",
        "_years",
        "last_day_of_month",
        "nearest_weekday",
        "last_day_offset",
        "last_day_of_week",
        "nth_day_of_week",
        "warnings",
        "_max_year",
    )

    def __init__(self, expression: str) -> None:
        from ._parse import max_year, parse_fields

        parsed = parse_fields(expression)
        self.expression = expression
        self.fields: tuple[str, ...] = tuple(parsed.tokens)
        sets = [tuple(sorted(s)) for s in parsed.sets]
        (
            self._seconds,
            self._minutes,
            self._hours,
            self._days_of_month,
            self._months,
            self._days_of_week,
            self._years,
        ) = sets
        self.last_day_of_month = parsed.last_day_of_month
        self.nearest_weekday = parsed.nearest_weekday
        self.last_day_offset = parsed.last_day_offset
        self.last_day_of_week = parsed.last_day_of_week
        self.nth_day_of_week = parsed.nth_day_of_week
        self.warnings: tuple[str, ...] = tuple(parsed.warnings)
        self._max_year = max_year()

    @property
    def seconds(self) -> tuple[int, ...]:
        return tuple(v for v in self._seconds if 0 <= v <= 59)

    @property
    def minutes(self) -> tuple[int, ...]:
        return tuple(v for v in self._minutes if 0 <= v <= 59)

    @property
    def hours(self) -> tuple[int, ...]:
        return tuple(v for v in self._hours if 0 <= v <= 23)

    @property
    def days_of_month(self) -> tuple[int, ...]:
        return tuple(v for v in self._days_of_month if 0 <= v <= 31)

    @property
    def months(self) -> tuple[int, ...]:
        return tuple(v for v in self._months if 1 <= v <= 12)

    @property
    def days_of_week(self) -> tuple[int, ...]:
        return tuple(v for v in self._days_of_week if v not in (98, 99))

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(v for v in self._years if 1970 <= v <= self._max_year)

    @property
    def day_of_month_unspecified(self) -> bool:
        return 98 in self._days_of_month

    @property
    def day_of_week_unspecified(self) -> bool:
        return 98 in self._days_of_week

    def __repr__(self) -> str:
        return f"CronExpression({self.expression!r})"

    def __str__(self) -> str:
        return self.expression

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CronExpression) and other.expression == self.expression

    def __hash__(self) -> int:
        return hash(self.expression)

    def describe(self) -> str:
        from ._describe import describe_expression

        return describe_expression(self)

    def next_fire_times(
        self, after: _dt.datetime | None = None, tz: str = "UTC", count: int = 5
    ) -> list[_dt.datetime]:
        """The next ``count`` fire times strictly after ``after``, as aware UTC datetimes.

        ``after`` must be timezone-aware (default: now).  Fewer than ``count`` times are
        returned when the schedule ends (year field, or Quartz's limit of the current
        year + 100).  Raises QuartzError for an unknown time zone or when Quartz itself
        cannot compute the schedule (it would throw or loop forever).
        """
        from ._engine import next_times
        from ._zones import get_zone

        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be a non-negative integer, got {count!r}")
        zone = get_zone(tz)
        if after is None:
            after = _dt.datetime.now(_UTC)
        if not isinstance(after, _dt.datetime):
            raise TypeError(f"after must be a datetime, not {type(after).__name__}")
        if after.tzinfo is None or after.utcoffset() is None:
            raise ValueError("after must be timezone-aware (e.g. datetime(..., tzinfo=timezone.utc))")
        delta = after.astimezone(_UTC) - _EPOCH
        after_seconds = delta.days * 86400 + delta.seconds  # floor: Quartz drops the milliseconds
        if after_seconds < _MIN_AFTER:
            raise ValueError("after must be 1970-01-01 or later (Quartz schedules start in 1970)")
        if after_seconds >= _YEAR_3001:
            return []  # Quartz gives up beyond the year 2999
        times = next_times(self, zone, after_seconds, count, self._max_year)
        return [_EPOCH + _dt.timedelta(seconds=t) for t in times]


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_UTC)


def parse(expression: str) -> CronExpression:
    """Parse a Quartz cron expression; raises QuartzError exactly when Quartz 2.3.2 would."""
    return CronExpression(expression)


def next_fire_times(
    expr_str: str | CronExpression,
    tz: str = "UTC",
    after: _dt.datetime | None = None,
    count: int = 5,
) -> list[_dt.datetime]:
    """Convenience: ``parse(expr_str).next_fire_times(after, tz, count)``."""
    expr = expr_str if isinstance(expr_str, CronExpression) else parse(expr_str)
    return expr.next_fire_times(after, tz, count)


def describe(expr_str: str | CronExpression) -> str:
    """One-line English description, e.g. 'At 02:30:00, Monday through Friday'."""
    expr = expr_str if isinstance(expr_str, CronExpression) else parse(expr_str)
    return expr.describe()


def check_timezone(tz: str) -> str | None:
    """None if Java (so Quartz and Databricks) knows the time-zone id, else an error message."""
    from ._zones import check_timezone as _check

    return _check(tz)


# field names, for callers that map QuartzError.field to something
FIELDS = FIELD_NAMES
