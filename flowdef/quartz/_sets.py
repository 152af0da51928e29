"""Quartz's ``addToSet``: the values one item of a field adds to the field's set, with Java's int arithmetic
(``i += incr`` wraps around) and ranges that wrap past the field's end (``FRI-MON``, ``22-2``)."""

from __future__ import annotations

from ._common import ALL_SPEC, DAY_OF_MONTH, DAY_OF_WEEK, HOUR, INT_MAX, INT_MIN, MINUTE, MONTH, NO_SPEC, SECOND, YEAR
from ._messages import BOUNDS, range_problem

# Largest year value worth storing: Quartz gives up at year 2999 at the latest, so every
# value above this behaves the same ("never reached").
_YEAR_CAP = 3001

_WRAP = {SECOND: 60, MINUTE: 60, HOUR: 24, MONTH: 12, DAY_OF_WEEK: 7, DAY_OF_MONTH: 31}


class SetProblem(Exception):
    """A value Quartz rejects: what is wrong and how to fix it (the parser adds which field and item)."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix


def _jrem(a: int, b: int) -> int:
    """Java's ``%`` (the result has the sign of the dividend)."""
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _wrap_int(v: int) -> int:
    return (v - INT_MIN) % 2**32 + INT_MIN


def add_to_set(values: set[int], field: int, val: int, end: int, incr: int, max_year: int) -> None:
    """Quartz's ``addToSet``: the values of one item (``val``, ``val-end``, ``val/incr``, ``*``) into the field's set;
    raises :class:`SetProblem` for a value out of range."""
    if field in (SECOND, MINUTE):
        if (val < 0 or val > 59 or end > 59) and val != ALL_SPEC:
            raise SetProblem(*range_problem(field, val, end))
    elif field == HOUR:
        if (val < 0 or val > 23 or end > 23) and val != ALL_SPEC:
            raise SetProblem(*range_problem(field, val, end))
    elif field == DAY_OF_MONTH:
        if (val < 1 or val > 31 or end > 31) and val != ALL_SPEC and val != NO_SPEC:
            raise SetProblem(*range_problem(field, val, end))
    elif field == MONTH:
        if (val < 1 or val > 12 or end > 12) and val != ALL_SPEC:
            raise SetProblem(*range_problem(field, val, end))
    elif field == DAY_OF_WEEK:
        if (val == 0 or val > 7 or end > 7) and val != ALL_SPEC and val != NO_SPEC:
            raise SetProblem(*range_problem(field, val, end))

    if (incr == 0 or incr == -1) and val != ALL_SPEC:
        if field == YEAR and val > _YEAR_CAP:
            val = _YEAR_CAP  # stands for every year Quartz never reaches
        values.add(val if val != -1 else NO_SPEC)
        return

    start, stop = val, end
    if val == ALL_SPEC and incr <= 0:
        incr = 1
        values.add(ALL_SPEC)
    lo, hi = BOUNDS[field] if field != YEAR else (1970, max_year)
    if stop == -1:
        stop = hi
    if start == -1 or start == ALL_SPEC:
        start = lo
    modulus = -1
    if stop < start:
        if field == YEAR:
            raise SetProblem(
                f"the range {start}-{stop} runs backwards",
                f"write it as {stop}-{start}",
            )
        modulus = _WRAP[field]
        stop += modulus
    if field == YEAR:
        _add_years(values, start, stop, incr)
        return
    i = start
    # Java int arithmetic: 'i += incr' may overflow for huge increments.
    while i <= stop:
        if modulus == -1:
            values.add(i)
        else:
            i2 = _jrem(i, modulus)
            if i2 == 0 and field in (MONTH, DAY_OF_WEEK, DAY_OF_MONTH):
                i2 = modulus
            values.add(i2)
        i = _wrap_int(i + incr)

def _add_years(values: set[int], start: int, stop: int, incr: int) -> None:
    if stop >= INT_MAX:
        raise SetProblem(
            f"the year range ends at {stop}, which makes Quartz loop forever",
            "use years between 1970 and 2099",
        )
    # Only values up to _YEAR_CAP matter (Quartz stops by year 2999); stand-in for the rest.
    i = start
    while i <= stop:
        if i > _YEAR_CAP:
            values.add(_YEAR_CAP)
            break
        values.add(i)
        nxt = i + incr
        if nxt > INT_MAX:
            # Java overflow: the loop continues from a negative number; those values can
            # never match a real year, and the loop ends once it climbs above 'stop'.
            nxt = _wrap_int(nxt)
            while nxt <= stop and nxt < 0:
                values.add(nxt)
                nxt = _wrap_int(nxt + incr)
            if nxt <= stop:
                i = nxt
                continue
            break
        i = nxt
