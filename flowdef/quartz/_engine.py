"""Fire-time computation: a port of Quartz 2.3.2 ``CronExpression.getTimeAfter``.

Quartz walks a lenient ``java.util.GregorianCalendar`` field by field (second,
minute, hour, day, month, year), setting fields and reading them back.  Every
read normalises the calendar: out-of-range values roll over (day 32 -> next
month) and a wall-clock time is mapped to an instant the way Java does it:

* a wall time inside a spring-forward gap is read with the offset *before* the
  transition, i.e. it moves forward by the gap (02:30 -> 03:30);
* a wall time inside a fall-back overlap gets the offset *after* the
  transition, i.e. the later of the two instants (01:30 -> 01:30 standard time).

Both cases are "the smaller of the two candidate UTC offsets", which is how
``wall_offset`` of the zones in ``_zones`` implements them.  The walk below mirrors Quartz's loop
step by step so that its DST behaviour and its quirks come out identically.
"""

from __future__ import annotations

import datetime as _dt
from bisect import bisect_left

from ._common import NO_SPEC, QuartzError

_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
_DAY = 86400

# Calendar field indexes of our emulation.
_Y, _MO, _D, _H, _MI, _S = range(6)

# Quartz gives up after this many years in its loop (checked at the top of the loop).
_HARD_YEAR_LIMIT = 2999
# Safety net against expressions on which Quartz itself never returns (e.g. '0W').
_MAX_STEPS = 400000


def _month_length(month: int, year: int) -> int:
    if month == 2:
        return 29 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _last_day_of_month(month: int, year: int) -> int:
    if not 1 <= month <= 12:
        raise _QuartzRuntime(f"Quartz fails with 'Illegal month number: {month}'")
    return _month_length(month, year)


class _QuartzRuntime(Exception):
    pass


class _Calendar:
    """A lenient java.util.GregorianCalendar in one time zone (second resolution)."""

    __slots__ = ("zone", "f", "dirty", "utc")

    def __init__(self, zone, utc_seconds: int) -> None:
        self.zone = zone
        self.f = [0, 0, 0, 0, 0, 0]
        self.set_time(utc_seconds)

    def set_time(self, utc_seconds: int) -> None:
        self.utc = utc_seconds
        w = self.zone.wall(utc_seconds)
        f = self.f
        f[0] = w.year
        f[1] = w.month - 1
        f[2] = w.day
        f[3] = w.hour
        f[4] = w.minute
        f[5] = w.second
        self.dirty = False

    def set(self, field: int, value: int) -> None:
        self.f[field] = value
        self.dirty = True

    def complete(self) -> None:
        if not self.dirty:
            return
        y, m0, d, h, mi, s = self.f
        y += m0 // 12
        m0 %= 12
        if y < 1 or y > 9999:
            raise _QuartzRuntime("the computation left the supported date range")
        ordinal = _dt.date(y, m0 + 1, 1).toordinal() + d - 1
        wall = (ordinal - _EPOCH_ORDINAL) * _DAY + h * 3600 + mi * 60 + s
        self.set_time(wall - self.zone.wall_offset(wall))

    def get(self, field: int) -> int:
        if self.dirty:
            self.complete()
        return self.f[field]

    def add_year(self) -> None:
        """``Calendar.add(YEAR, 1)``: keeps the wall time, pins the day to the month length."""
        self.complete()
        f = self.f
        f[0] += 1
        length = _month_length(f[1] + 1, f[0])
        if f[2] > length:
            f[2] = length
        self.dirty = True

    def day_of_week(self) -> int:
        """Java DAY_OF_WEEK: 1 = Sunday ... 7 = Saturday."""
        self.complete()
        y, m0, d = self.f[0], self.f[1], self.f[2]
        return _dt.date(y, m0 + 1, d).isoweekday() % 7 + 1


def _tail_first(values: tuple[int, ...], x: int) -> int | None:
    """``values.tailSet(x).first()`` or None when the tail set is empty."""
    i = bisect_left(values, x)
    return values[i] if i < len(values) else None


def _first(values: tuple[int, ...], what: str) -> int:
    if not values:
        raise _QuartzRuntime(
            f"the {what} field selects no value, so Quartz fails with NoSuchElementException"
        )
    return values[0]


def time_after(expr, zone, after_seconds: int, max_year: int) -> int | None:
    """Next fire time strictly after ``after_seconds`` (UTC epoch seconds), or None."""
    seconds, minutes, hours = expr._seconds, expr._minutes, expr._hours
    doms, months, dows, years = expr._days_of_month, expr._months, expr._days_of_week, expr._years
    last_dom = expr.last_day_of_month
    nearest_weekday = expr.nearest_weekday
    last_offset = expr.last_day_offset
    last_dow = expr.last_day_of_week
    nth_dow = expr.nth_day_of_week
    dom_spec = NO_SPEC not in doms
    dow_spec = NO_SPEC not in dows

    # Quartz: afterTime = after + 1 s, milliseconds dropped.
    after_time = after_seconds + 1
    cl = _Calendar(zone, after_time)
    steps = 0
    seen: set[int] = set()

    while True:
        steps += 1
        if steps > _MAX_STEPS:
            raise _QuartzRuntime("Quartz never finishes computing the next fire time (it loops forever)")
        if cl.get(_Y) > _HARD_YEAR_LIMIT:
            return None
        if steps > 5000:
            # Loop detection: Quartz's state at the top of the loop is the calendar alone.
            key = cl.utc
            if key in seen:
                raise _QuartzRuntime(
                    "Quartz never finishes computing the next fire time (it loops forever)"
                )
            seen.add(key)

        # ---- second
        sec = cl.get(_S)
        mi = cl.get(_MI)
        t = _tail_first(seconds, sec)
        if t is not None:
            sec = t
        else:
            sec = _first(seconds, "seconds")
            mi += 1
            cl.set(_MI, mi)
        cl.set(_S, sec)

        # ---- minute
        mi = cl.get(_MI)
        hr = cl.get(_H)
        t = -1
        v = _tail_first(minutes, mi)
        if v is not None:
            t = mi
            mi = v
        else:
            mi = _first(minutes, "minutes")
            hr += 1
        if mi != t:
            cl.set(_S, 0)
            cl.set(_MI, mi)
            _set_calendar_hour(cl, hr)
            continue
        cl.set(_MI, mi)

        # ---- hour
        hr = cl.get(_H)
        day = cl.get(_D)
        t = -1
        v = _tail_first(hours, hr)
        if v is not None:
            t = hr
            hr = v
        else:
            hr = _first(hours, "hours")
            day += 1
        if hr != t:
            cl.set(_S, 0)
            cl.set(_MI, 0)
            cl.set(_D, day)
            _set_calendar_hour(cl, hr)
            continue
        cl.set(_H, hr)

        # ---- day
        day = cl.get(_D)
        mon = cl.get(_MO) + 1
        t = -1
        tmon = mon

        if dom_spec and not dow_spec:
            st = _tail_first(doms, day)
            if last_dom:
                if not nearest_weekday:
                    t = day
                    day = _last_day_of_month(mon, cl.get(_Y)) - last_offset
                    if t > day:
                        mon += 1
                        if mon > 12:
                            mon = 1
                            tmon = 3333
                            cl.add_year()
                        day = 1
                else:
                    t = day
                    year = cl.get(_Y)
                    day = _last_day_of_month(mon, year) - last_offset
                    day, n_time = _nearest_weekday(zone, year, mon, day, hr, mi, sec)
                    if n_time < after_time:
                        day = 1
                        mon += 1
            elif nearest_weekday:
                t = day
                day = _first(doms, "day-of-month")
                year = cl.get(_Y)
                day, n_time = _nearest_weekday(zone, year, mon, day, hr, mi, sec)
                if n_time < after_time:
                    day = _first(doms, "day-of-month")
                    mon += 1
            elif st is not None:
                t = day
                day = st
                if day > _last_day_of_month(mon, cl.get(_Y)):
                    day = _first(doms, "day-of-month")
                    mon += 1
            else:
                day = _first(doms, "day-of-month")
                mon += 1

            if day != t or mon != tmon:
                cl.set(_S, 0)
                cl.set(_MI, 0)
                cl.set(_H, 0)
                cl.set(_D, day)
                cl.set(_MO, mon - 1)
                continue
        elif dow_spec and not dom_spec:
            if last_dow:
                dow = _first(dows, "day-of-week")
                c_dow = cl.day_of_week()
                days_to_add = 0
                if c_dow < dow:
                    days_to_add = dow - c_dow
                if c_dow > dow:
                    days_to_add = dow + (7 - c_dow)
                l_day = _last_day_of_month(mon, cl.get(_Y))
                if day + days_to_add > l_day:
                    cl.set(_S, 0)
                    cl.set(_MI, 0)
                    cl.set(_H, 0)
                    cl.set(_D, 1)
                    cl.set(_MO, mon)
                    continue
                while day + days_to_add + 7 <= l_day:
                    days_to_add += 7
                day += days_to_add
                if days_to_add > 0:
                    cl.set(_S, 0)
                    cl.set(_MI, 0)
                    cl.set(_H, 0)
                    cl.set(_D, day)
                    cl.set(_MO, mon - 1)
                    continue
            elif nth_dow != 0:
                dow = _first(dows, "day-of-week")
                if dow > 7:
                    # e.g. '9#2': the day keeps moving forward without ever matching; Quartz
                    # promotes month after month until it gives up in year 2999.
                    return None
                c_dow = cl.day_of_week()
                days_to_add = 0
                if c_dow < dow:
                    days_to_add = dow - c_dow
                elif c_dow > dow:
                    days_to_add = dow + (7 - c_dow)
                day_shifted = days_to_add > 0
                day += days_to_add
                week_of_month = day // 7 if day >= 0 else -((-day) // 7)
                if _java_rem7(day) > 0:
                    week_of_month += 1
                days_to_add = (nth_dow - week_of_month) * 7
                day += days_to_add
                if days_to_add < 0 or day > _last_day_of_month(mon, cl.get(_Y)):
                    cl.set(_S, 0)
                    cl.set(_MI, 0)
                    cl.set(_H, 0)
                    cl.set(_D, 1)
                    cl.set(_MO, mon)
                    continue
                elif days_to_add > 0 or day_shifted:
                    cl.set(_S, 0)
                    cl.set(_MI, 0)
                    cl.set(_H, 0)
                    cl.set(_D, day)
                    cl.set(_MO, mon - 1)
                    continue
            else:
                c_dow = cl.day_of_week()
                dow = _first(dows, "day-of-week")
                v = _tail_first(dows, c_dow)
                if v is not None:
                    dow = v
                days_to_add = 0
                if c_dow < dow:
                    days_to_add = dow - c_dow
                if c_dow > dow:
                    days_to_add = dow + (7 - c_dow)
                l_day = _last_day_of_month(mon, cl.get(_Y))
                if day + days_to_add > l_day:
                    cl.set(_S, 0)
                    cl.set(_MI, 0)
                    cl.set(_H, 0)
                    cl.set(_D, 1)
                    cl.set(_MO, mon)
                    continue
                elif days_to_add > 0:
                    cl.set(_S, 0)
                    cl.set(_MI, 0)
                    cl.set(_H, 0)
                    cl.set(_D, day + days_to_add)
                    cl.set(_MO, mon - 1)
                    continue
        else:
            raise _QuartzRuntime(
                "Support for specifying both a day-of-week AND a day-of-month parameter is not implemented."
            )
        cl.set(_D, day)

        # ---- month
        mon = cl.get(_MO) + 1
        year = cl.get(_Y)
        t = -1
        if year > max_year:
            return None
        v = _tail_first(months, mon)
        if v is not None:
            t = mon
            mon = v
        else:
            mon = _first(months, "month")
            year += 1
        if mon != t:
            cl.set(_S, 0)
            cl.set(_MI, 0)
            cl.set(_H, 0)
            cl.set(_D, 1)
            cl.set(_MO, mon - 1)
            cl.set(_Y, year)
            continue
        cl.set(_MO, mon - 1)

        # ---- year
        year = cl.get(_Y)
        t = -1
        v = _tail_first(years, year)
        if v is not None:
            t = year
            year = v
        else:
            return None
        if year != t:
            cl.set(_S, 0)
            cl.set(_MI, 0)
            cl.set(_H, 0)
            cl.set(_D, 1)
            cl.set(_MO, 0)
            cl.set(_Y, year)
            continue
        cl.set(_Y, year)
        cl.complete()
        return cl.utc


def _java_rem7(day: int) -> int:
    r = abs(day) % 7
    return -r if day < 0 else r


def _set_calendar_hour(cl: _Calendar, hour: int) -> None:
    cl.set(_H, hour)
    if cl.get(_H) != hour and hour != 24:
        cl.set(_H, hour + 1)


def _nearest_weekday(zone, year: int, mon: int, day: int, hr: int, mi: int, sec: int) -> tuple[int, int]:
    """Quartz's 'W' adjustment on its scratch calendar ``tcal``; returns (day, instant).

    Like Quartz, the scratch calendar is first set to 00:00 of ``day`` (which may be out of
    range and roll into another month), its day of week is read, then the wall time and the
    adjusted day are set again without resetting the (possibly rolled) year.
    """
    tcal = _Calendar.__new__(_Calendar)
    tcal.zone = zone
    tcal.utc = 0
    tcal.f = [year, mon - 1, day, 0, 0, 0]
    tcal.dirty = True
    ldom = _last_day_of_month(mon, year)
    dow = tcal.day_of_week()
    if dow == 7 and day == 1:
        day += 2
    elif dow == 7:
        day -= 1
    elif dow == 1 and day == ldom:
        day -= 2
    elif dow == 1:
        day += 1
    tcal.set(_S, sec)
    tcal.set(_MI, mi)
    tcal.set(_H, hr)
    tcal.set(_D, day)
    tcal.set(_MO, mon - 1)
    tcal.complete()
    return day, tcal.utc


def next_times(expr, zone, after_seconds: int, count: int, max_year: int) -> list[int]:
    out: list[int] = []
    t = after_seconds
    for _ in range(count):
        try:
            nxt = time_after(expr, zone, t, max_year)
        except _QuartzRuntime as exc:
            found = f" (after {len(out)} fire time{'s' if len(out) != 1 else ''})" if out else ""
            raise QuartzError(
                f"'{expr.expression}' is accepted by Quartz but cannot be scheduled{found}: {exc}"
            ) from None
        if nxt is None:
            break
        out.append(nxt)
        t = nxt
    return out
