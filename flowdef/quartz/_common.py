"""Shared constants and the error type of the Quartz cron engine."""

from __future__ import annotations

__all__ = ["QuartzError", "FIELD_NAMES"]

# Field indexes, in Quartz order.
SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR = range(7)

FIELD_NAMES = ("seconds", "minutes", "hours", "day-of-month", "month", "day-of-week", "year")

# Markers Quartz stores inside the value sets: '*' and '?'.
ALL_SPEC = 99
NO_SPEC = 98

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# Quartz numbers days of the week 1 = Sunday ... 7 = Saturday.
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1


class QuartzError(ValueError):
    """An invalid Quartz cron expression, time zone, or a schedule Quartz cannot evaluate.

    ``message`` says what is wrong and how to fix it; ``field`` names the offending
    field ("seconds", ..., "year", "timezone") or is ``None`` when no single field is at fault.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message
