"""One-line English descriptions of Quartz cron expressions.

The description is built from what Quartz actually parsed (the value sets and
flags), not from the text, so it also tells the truth about quirks: ``MONDAY`` is
described as Monday (Quartz reads the first three letters), ``L`` alone in the
day-of-week field as Saturday.
"""

from __future__ import annotations

_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}
_MAX_LISTED_TIMES = 6


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _progression(values: list[int], lo: int, hi: int) -> tuple[int, int] | None:
    """(start, step) when values are start, start+step, ... up to the field maximum."""
    if len(values) < 2:
        return None
    step = values[1] - values[0]
    if step < 2 or any(b - a != step for a, b in zip(values, values[1:])):
        return None
    if values[-1] + step <= hi or values[0] - lo >= step:
        return None
    return values[0], step


def _runs(values: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and v == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


def _list(values: list[int], name=str) -> str:
    parts = []
    for a, b in _runs(values):
        if a == b:
            parts.append(name(a))
        elif b == a + 1:
            parts += [name(a), name(b)]
        else:
            parts.append(f"{name(a)} through {name(b)}")
    return _join(parts)


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'s' if n != 1 else ''}"


# --------------------------------------------------------------------------- time of day
def _time_part(sec: list[int], minute: list[int], hour: list[int]) -> str:
    all_s, all_m, all_h = sec == list(range(60)), minute == list(range(60)), hour == list(range(24))
    if not sec or not minute or not hour:
        return "Never (a time field selects no value)"

    # A few exact times of day: list them.
    if len(sec) * len(minute) * len(hour) <= _MAX_LISTED_TIMES:
        times = [f"{h:02d}:{m:02d}:{s:02d}" for h in hour for m in minute for s in sec]
        return "At " + _join(times)

    # Seconds within the minute.
    if all_s:
        s_text = "every second"
    elif (p := _progression(sec, 0, 59)) is not None:
        s_text = f"every {p[1]} seconds" + (f" starting at second {p[0]}" if p[0] else "")
    elif len(sec) == 1:
        s_text = f"at second {sec[0]}"
    else:
        s_text = f"at seconds {_list(sec)}"

    # Minutes within the hour.
    if all_m:
        m_text = ""
    elif (p := _progression(minute, 0, 59)) is not None:
        m_text = f"every {p[1]} minutes" + (f" starting at minute {p[0]}" if p[0] else "")
    elif len(minute) == 1:
        m_text = f"at minute {minute[0]}"
    else:
        m_text = f"at minutes {_list(minute)}"

    # Hours of the day.
    if all_h:
        h_text = ""
    elif (p := _progression(hour, 0, 23)) is not None:
        h_text = f"every {p[1]} hours" + (f" starting at {p[0]:02d}:00" if p[0] else "")
    else:
        runs = _runs(hour)
        if len(runs) <= 3:
            h_text = _join([f"between {a:02d}:00 and {b:02d}:59" for a, b in runs])
        else:
            h_text = f"during hours {_list(hour)}"

    single_s = len(sec) == 1
    if single_s and len(minute) == 1:
        # one moment in each selected hour
        m, s0 = minute[0], sec[0]
        moment = f"at minute {m}" if s0 == 0 else f"at minute {m}, second {s0}"
        lead = f"{moment} of every hour" if all_h else f"{moment} past the hour"
        parts = [lead, h_text]
    elif single_s and all_m:
        lead = "every minute" if sec[0] == 0 else f"at second {sec[0]} of every minute"
        parts = [lead, h_text]
    elif single_s:
        lead = m_text if sec[0] == 0 else f"{m_text}, at second {sec[0]}"
        parts = [lead, h_text]
    else:
        if not all_m and m_text.startswith("at "):
            m_text = "during " + m_text[3:]
        if all_m and s_text.startswith("at "):
            s_text += " of every minute"
        parts = [s_text, m_text, h_text]
    sentence = ", ".join(p for p in parts if p)
    return sentence[:1].upper() + sentence[1:]


# --------------------------------------------------------------------------- days
def _dow_name(v: int) -> str:
    return _DAY_NAMES[v - 1] if 1 <= v <= 7 else f"day-of-week {v}"


def _day_part(expr) -> str:
    if expr.day_of_week_unspecified:
        return _dom_part(expr)
    return _dow_part(expr)


def _dom_part(expr) -> str:
    if expr.last_day_of_month:
        n = expr.last_day_offset
        if expr.nearest_weekday:
            if n == 0:
                return "on the last weekday (Monday to Friday) of the month"
            return f"on the weekday (Monday to Friday) nearest to {_plural(n, 'day')} before the last day of the month"
        if n == 0:
            return "on the last day of the month"
        return f"{_plural(n, 'day')} before the last day of the month"
    days = [d for d in expr.days_of_month]
    if not days:
        return "never (no day of the month)"
    if expr.nearest_weekday:
        d = days[0]
        return f"on the weekday (Monday to Friday) nearest to day {d} of the month"
    if days == list(range(1, 32)):
        return "every day"
    if len(days) > 8 and (p := _progression(days, 1, 31)) is not None:
        start = f", starting on day {p[0]}" if p[0] != 1 else ""
        return f"every {p[1]} days of the month{start}"
    if len(days) == 1:
        return f"on day {days[0]} of the month"
    return f"on days {_list(days)} of the month"


def _dow_part(expr) -> str:
    days = list(expr.days_of_week)
    if not days:
        return "never (no day of the week)"
    if expr.last_day_of_week:
        return f"on the last {_dow_name(days[0])} of the month"
    if expr.nth_day_of_week:
        return f"on the {_ORDINALS[expr.nth_day_of_week]} {_dow_name(days[0])} of the month"
    real = [d for d in days if 1 <= d <= 7]
    if real == list(range(1, 8)):
        return "every day"
    if len(real) == 1:
        return f"only on {_dow_name(real[0])}"
    # circular runs, so FRI-MON reads "Friday through Monday"
    runs = _runs(real)
    if len(runs) > 1 and runs[0][0] == 1 and runs[-1][1] == 7:
        runs = [(runs[-1][0], runs[0][1])] + runs[1:-1]
    parts = []
    for a, b in runs:
        if a == b:
            parts.append(_dow_name(a))
        elif (b - a) % 7 == 1:
            parts += [_dow_name(a), _dow_name(b)]
        else:
            parts.append(f"{_dow_name(a)} through {_dow_name(b)}")
    text = _join(parts)
    return text if len(runs) == 1 and runs[0][0] != runs[0][1] else f"on {text}"


# --------------------------------------------------------------------------- months, years
def _month_part(months: list[int]) -> str:
    if months == list(range(1, 13)) or not months:
        return "" if months else "never (no month)"
    if (p := _progression(months, 1, 12)) is not None:
        start = f", starting in {_MONTH_NAMES[p[0] - 1]}" if p[0] != 1 else ""
        return f"every {p[1]} months{start}"
    return "only in " + _list(months, lambda m: _MONTH_NAMES[m - 1])


def _year_part(expr) -> str:
    years = list(expr.years)
    raw = [y for y in expr._years if y not in (98, 99)]
    if not years:
        return "in no year Quartz will reach (never fires)" if raw else ""
    if years == list(range(1970, expr._max_year + 1)):
        return ""
    if (p := _progression(years, years[0], expr._max_year)) is not None and len(years) > 2:
        return f"every {p[1]} years from {p[0]}"
    if len(years) == 1:
        return f"in {years[0]} only"
    return "in " + _list(years)


def describe_expression(expr) -> str:
    time_text = _time_part(list(expr.seconds), list(expr.minutes), list(expr.hours))
    months = list(expr.months)
    days = list(expr.days_of_month)
    if (
        expr.day_of_week_unspecified
        and len(months) == 1
        and len(days) == 1
        and not expr.last_day_of_month
        and not expr.nearest_weekday
    ):
        day_text, month_text = f"on {_MONTH_NAMES[months[0] - 1]} {days[0]}", ""
        if days[0] > (29 if months[0] == 2 else 30 if months[0] in (4, 6, 9, 11) else 31):
            day_text += " (a date that does not exist: never fires)"
    else:
        day_text, month_text = _day_part(expr), _month_part(months)
    parts = [time_text, day_text, month_text, _year_part(expr)]
    return ", ".join(p for p in parts if p)
