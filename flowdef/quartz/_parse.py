"""Parser for Quartz 2.3.2 cron expressions.

The accept/reject decision and the resulting value sets follow
``org.quartz.CronExpression`` (Quartz 2.3.2) exactly, including its quirks
(trailing characters that Quartz silently ignores, ``L`` alone in the
day-of-week field meaning Saturday, fields after the seventh being ignored, ...).
That behaviour was established by experiment against the real library (see
``tests/quartz_oracle``); the error messages are our own and say how to fix the
expression.  Quirks that Quartz accepts but that are almost certainly mistakes
are reported as ``warnings`` on the parsed expression.
"""

from __future__ import annotations

import datetime as _dt
import re

from ._sets import SetProblem, add_to_set
from ._messages import (
    DOW_RANGE,
    NTH_PROBLEM,
    fix_for,
    too_few_fields_message,
    warnings_of,
)
from ._common import (
    ALL_SPEC,
    DAY_NAMES,
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    FIELD_NAMES,
    HOUR,
    INT_MAX,
    INT_MIN,
    MINUTE,
    MONTH,
    MONTH_NAMES,
    NO_SPEC,
    SECOND,
    YEAR,
    QuartzError,
)

_MONTHS = {name: i + 1 for i, name in enumerate(MONTH_NAMES)}
_DAYS = {name: i + 1 for i, name in enumerate(DAY_NAMES)}


_L_OFFSET_RE = None


def max_year() -> int:
    """Quartz 2.3.2's ``CronExpression.MAX_YEAR``: the current year + 100.

    ``*`` in the year field means 1970..MAX_YEAR and no fire time after MAX_YEAR is
    ever returned (Quartz computes it once, when the class is loaded).
    """
    return _dt.date.today().year + 100


class _Reject(Exception):
    """Internal: Quartz rejects the expression (wrapped into QuartzError by the caller)."""

    def __init__(self, message: str, field: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _java_trim(s: str) -> str:
    start, end = 0, len(s)
    while start < end and s[start] <= " ":
        start += 1
    while end > start and s[end - 1] <= " ":
        end -= 1
    return s[start:end]


def _is_ascii_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _java_parse_int(s: str) -> int | None:
    """``Integer.parseInt``: optional sign, then decimal digits (any script); None if invalid."""
    body = s[1:] if s[:1] in ("+", "-") else s
    if not body or not all(ch.isdecimal() for ch in body):
        return None
    value = int(body)
    if s[:1] == "-":
        value = -value
    if value < INT_MIN or value > INT_MAX:
        return None
    return value


class ParsedFields:
    """The value sets and flags Quartz derives from an expression."""

    __slots__ = (
        "sets",
        "last_day_of_month",
        "nearest_weekday",
        "last_day_offset",
        "last_day_of_week",
        "nth_day_of_week",
        "warnings",
        "tokens",
    )

    def __init__(self) -> None:
        self.sets: list[set[int]] = [set() for _ in range(7)]
        self.last_day_of_month = False
        self.nearest_weekday = False
        self.last_day_offset = 0
        self.last_day_of_week = False
        self.nth_day_of_week = 0
        self.warnings: list[str] = []
        self.tokens: list[str] = []


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.f = ParsedFields()
        self.max_year = max_year()
        self.field_token = ""
        self.item = ""

    # ------------------------------------------------------------------ helpers
    def fail(self, field: int | None, problem: str, fix: str = "") -> _Reject:
        if field is None:
            msg = problem
        else:
            token = self.field_token
            where = f"{FIELD_NAMES[field]} field '{token}'" if token else f"{FIELD_NAMES[field]} field"
            if self.item and self.item != token:
                where += f" (in '{self.item}')"
            msg = f"{where}: {problem}"
        if fix:
            msg += f"; {fix}"
        return _Reject(msg, field)

    def warn(self, field: int, text: str) -> None:
        msg = f"{FIELD_NAMES[field]} field '{self.field_token}': {text}"
        if msg not in self.f.warnings:
            self.f.warnings.append(msg)

    def ignored_tail(self, field: int, s: str, pos: int) -> None:
        """Quartz stopped reading the item at ``pos`` and silently drops the rest."""
        if pos < len(s):
            self.warn(
                field,
                f"Quartz ignores '{s[pos:]}' after '{s[:pos]}' (it reads '{s}' as '{s[:pos]}')",
            )

    def char_at(self, field: int, s: str, i: int) -> str:
        if i >= len(s):
            raise self.fail(field, f"'{s}' ends too early", fix_for(field))
        return s[i]

    def parse_int(self, field: int, text: str, what: str) -> int:
        value = _java_parse_int(text)
        if value is None:
            raise self.fail(field, f"'{text}' is not a valid {what}", fix_for(field))
        return value

    def get_value(self, field: int, v: int, s: str, i: int) -> tuple[int, int]:
        """Quartz ``getValue``: the digits at ``i`` appended to ``v``; returns (value, pos)."""
        c = self.char_at(field, s, i)
        digits = str(v)
        while _is_ascii_digit(c):
            digits += c
            i += 1
            if i >= len(s):
                break
            c = s[i]
        pos = i if i < len(s) else i + 1
        value = _java_parse_int(digits)
        if value is None:
            raise self.fail(field, f"the number '{digits}' is too large", fix_for(field))
        return value, pos

    # ------------------------------------------------------------ expression
    def parse(self) -> ParsedFields:
        upper = self.text.upper()
        tokens = [t for t in re.split(r"[ \t]+", upper) if t]
        originals = [t for t in re.split(r"[ \t]+", self.text) if t]
        if len(originals) != len(tokens):
            originals = tokens
        field = 0
        for index, raw in enumerate(tokens):
            if field > YEAR:
                extra = " ".join(originals[index:])
                self.f.warnings.append(
                    f"Quartz ignores everything after the 7th field ('{extra}'); remove it"
                )
                break
            token = _java_trim(raw)
            self.field_token = _java_trim(originals[index])
            self.f.tokens.append(token)
            self.item = ""
            if field == DAY_OF_MONTH and "L" in token and len(token) > 1 and "," in token:
                raise self.fail(
                    field,
                    "'L' and 'LW' cannot be combined with other days in a list",
                    "use 'L' or 'LW' on its own (e.g. '0 0 12 L * ?')",
                )
            if field == DAY_OF_WEEK and "L" in token and len(token) > 1 and "," in token:
                raise self.fail(
                    field,
                    "'L' (last weekday of the month, e.g. '6L') cannot be combined with other days in a list",
                    "use a single 'nL' value (e.g. '0 0 12 ? * 6L')",
                )
            if field == DAY_OF_WEEK and token.count("#") > 1:
                raise self.fail(
                    field,
                    "only one 'n#k' (k-th weekday of the month) value is supported",
                    "use one value such as '6#3' (third Friday)",
                )
            for item in token.split(","):
                if item:
                    self.item = item
                    self.store(item, field)
            field += 1
        self.item = ""
        self.field_token = ""
        if field <= DAY_OF_WEEK:
            raise _Reject(too_few_fields_message(self.text, len(tokens)), None)
        if field <= YEAR:
            self.store("*", YEAR)
        self.check_day_fields()
        self.f.warnings.extend(warnings_of(self.f, self.max_year))
        return self.f

    def check_day_fields(self) -> None:
        dom_q = NO_SPEC in self.f.sets[DAY_OF_MONTH]
        dow_q = NO_SPEC in self.f.sets[DAY_OF_WEEK]
        if dom_q != dow_q:
            return
        toks = self.f.tokens
        dom, dow = toks[DAY_OF_MONTH], toks[DAY_OF_WEEK]
        if dom_q:
            raise _Reject(
                "day-of-month and day-of-week cannot both be '?': set one of them "
                "(e.g. '0 0 12 * * ?' for every day, '0 0 12 ? * MON' for Mondays)",
                DAY_OF_WEEK,
            )
        if dom == "*" and dow == "*":
            fixed = _replace_field(self.text, DAY_OF_WEEK, "?")
            raise _Reject(
                "day-of-month and day-of-week cannot both be '*': set one of them to '?' "
                f"(e.g. '{fixed or '0 0 12 * * ?'}')",
                DAY_OF_MONTH,
            )
        if dom == "*":
            fixed = _replace_field(self.text, DAY_OF_MONTH, "?")
            raise _Reject(
                f"day-of-week is '{dow}' so day-of-month must be '?', not '*' "
                "(Quartz does not support specifying both)"
                + (f": use '{fixed}'" if fixed else ""),
                DAY_OF_MONTH,
            )
        if dow == "*":
            fixed = _replace_field(self.text, DAY_OF_WEEK, "?")
            raise _Reject(
                f"day-of-month is '{dom}' so day-of-week must be '?', not '*' "
                "(Quartz does not support specifying both)"
                + (f": use '{fixed}'" if fixed else ""),
                DAY_OF_WEEK,
            )
        raise _Reject(
            f"day-of-month '{dom}' and day-of-week '{dow}' cannot both be specified "
            "(Quartz does not support it): replace one of them with '?'",
            DAY_OF_MONTH,
        )

    # -------------------------------------------------------------- one item
    def store(self, s: str, field: int) -> None:
        i = 0
        while i < len(s) and s[i] in " \t":
            i += 1
        if i >= len(s):
            return
        c = s[i]
        if "A" <= c <= "Z" and s != "L" and s != "LW" and not _l_offset_re().fullmatch(s):
            self.store_name(s, i, field)
            return
        if c == "?":
            i += 1
            if i + 1 < len(s) and s[i] != " " and s[i + 1] != "\t":
                raise self.fail(
                    field,
                    f"unexpected '{s[i:]}' after '?'",
                    "'?' must stand alone",
                )
            if i < len(s):
                self.ignored_tail(field, s, i)
            if field != DAY_OF_WEEK and field != DAY_OF_MONTH:
                raise self.fail(
                    field,
                    "'?' is only allowed in the day-of-month or day-of-week field",
                    "use '*' for 'every value'",
                )
            if field == DAY_OF_WEEK and not self.f.last_day_of_month:
                dom = self.f.sets[DAY_OF_MONTH]
                if not dom:
                    raise self.fail(
                        field,
                        "'?' here needs a day-of-month value, but the day-of-month field selects nothing",
                        "set day-of-month (e.g. '*' or '1')",
                    )
                if max(dom) == NO_SPEC:
                    raise self.fail(
                        field,
                        "day-of-month and day-of-week cannot both be '?'",
                        "set one of them (e.g. '0 0 12 * * ?' for every day, '0 0 12 ? * MON' for Mondays)",
                    )
            self.add(NO_SPEC, -1, 0, field)
            return
        if c == "*" or c == "/":
            if c == "*" and i + 1 >= len(s):
                self.add(ALL_SPEC, -1, 0, field)
                return
            if c == "/" and (i + 1 >= len(s) or s[i + 1] in " \t"):
                raise self.fail(field, "'/' must be followed by an increment", "e.g. '0/15' or '*/5'")
            if c == "*":
                i += 1
            c = s[i]
            if c == "/":
                i += 1
                if i >= len(s):
                    raise self.fail(field, "'/' must be followed by an increment", "e.g. '0/15' or '*/5'")
                incr = self.parse_int(field, s[i:], "increment after '/'")
                self.check_increment(incr, field)
                if incr <= 0:
                    self.warn(field, f"Quartz treats the increment {incr} as 1 (every value)")
            else:
                incr = 1
                self.ignored_tail(field, s, i)
            self.add(ALL_SPEC, -1, incr, field)
            return
        if c == "L":
            i += 1
            if field == DAY_OF_MONTH:
                self.f.last_day_of_month = True
            if field == DAY_OF_WEEK:
                self.add(7, 7, 0, field)
                self.warn(
                    field,
                    "'L' alone in day-of-week means Saturday (7), not 'last day'; for the last day "
                    "of the month put 'L' in day-of-month ('0 0 12 L * ?'), for the last Friday use '6L'",
                )
            elif field != DAY_OF_MONTH:
                self.warn(field, "Quartz ignores 'L' in this field, so it selects no value")
            if field == DAY_OF_MONTH and len(s) > i:
                c = s[i]
                if c == "-":
                    offset, i = self.get_value(field, 0, s, i + 1)
                    self.f.last_day_offset = offset
                    if offset > 30:
                        raise self.fail(
                            field,
                            f"the offset from the last day must be at most 30, got {offset}",
                            "e.g. 'L-3' for the third-to-last day",
                        )
                if len(s) > i:
                    c = s[i]
                    if c == "W":
                        self.f.nearest_weekday = True
                        i += 1
            return
        if _is_ascii_digit(c):
            val = int(c)
            i += 1
            if i < len(s) and _is_ascii_digit(s[i]):
                val, i = self.get_value(field, val, s, i)
            if val == ALL_SPEC and field != YEAR:
                self.warn(field, f"Quartz reads the number {ALL_SPEC} as '*' (every value)")
            elif val == NO_SPEC and field in (DAY_OF_MONTH, DAY_OF_WEEK):
                self.warn(field, f"Quartz reads the number {NO_SPEC} as '?' (no specific value)")
            if i >= len(s):
                self.add(val, -1, -1, field)
            else:
                self.check_next(i, s, val, field)
            return
        raise self.fail(field, f"unexpected character '{c}'", fix_for(field))

    def store_name(self, s: str, i: int, field: int) -> None:
        if field not in (MONTH, DAY_OF_WEEK):
            if field == DAY_OF_MONTH and s.startswith("L"):
                raise self.fail(
                    field,
                    f"'{s}' is not a valid 'L' form",
                    "use 'L' (last day), 'LW' (last weekday) or 'L-n' / 'L-nW' (n days before the last day)",
                )
            raise self.fail(
                field,
                f"'{s}' is not allowed here (names are only allowed in the month and day-of-week fields)",
                fix_for(field),
            )
        if len(s) < i + 3:
            raise self.fail(field, f"'{s}' is not a valid name", fix_for(field))
        sub = s[i : i + 3]
        end = -1
        tail = i + 3
        if field == MONTH:
            start = _MONTHS.get(sub, 0)
            if start <= 0:
                raise self.fail(field, f"'{sub}' is not a month name", fix_for(field))
            if len(s) > i + 3:
                if s[i + 3] == "-":
                    i += 4
                    if len(s) < i + 3:
                        raise self.fail(field, f"'{s}' is not a valid month range", fix_for(field))
                    sub = s[i : i + 3]
                    end = _MONTHS.get(sub, 0)
                    if end <= 0:
                        raise self.fail(field, f"'{sub}' is not a month name", fix_for(field))
                    tail = i + 3
        else:
            start = _DAYS.get(sub, -1)
            if start < 0:
                raise self.fail(field, f"'{sub}' is not a day name", fix_for(field))
            if len(s) > i + 3:
                c = s[i + 3]
                if c == "-":
                    i += 4
                    if len(s) < i + 3:
                        raise self.fail(field, f"'{s}' is not a valid day range", fix_for(field))
                    sub = s[i : i + 3]
                    end = _DAYS.get(sub, -1)
                    if end < 0:
                        raise self.fail(field, f"'{sub}' is not a day name", fix_for(field))
                    tail = i + 3
                elif c == "#":
                    nth = _java_parse_int(s[i + 4 :])
                    if nth is None or nth < 1 or nth > 5:
                        raise self.fail(field, *NTH_PROBLEM)
                    self.f.nth_day_of_week = nth
                    tail = len(s)
                elif c == "L":
                    self.f.last_day_of_week = True
                    tail = i + 4
        self.ignored_tail(field, s, tail)
        self.add(start, end, 1 if end != -1 else 0, field)

    def check_increment(self, incr: int, field: int) -> None:
        limit = {SECOND: 59, MINUTE: 59, HOUR: 23, DAY_OF_MONTH: 31, DAY_OF_WEEK: 7, MONTH: 12}.get(field)
        if limit is not None and incr > limit:
            raise self.fail(
                field,
                f"the increment {incr} is too large (at most {limit})",
                f"e.g. '0/{min(limit, 15)}'",
            )

    def check_next(self, pos: int, s: str, val: int, field: int) -> None:
        end = -1
        i = pos
        if i >= len(s):
            self.add(val, end, -1, field)
            return
        c = s[pos]
        if c == "L":
            if field == DAY_OF_WEEK:
                if val < 1 or val > 7:
                    raise self.fail(field, *DOW_RANGE)
                self.f.last_day_of_week = True
            else:
                raise self.fail(
                    field,
                    f"'{s}': 'nL' is only allowed in day-of-week (e.g. '6L' = last Friday)",
                    "for the last day of the month use 'L', for n days before it 'L-n'"
                    if field == DAY_OF_MONTH
                    else fix_for(field),
                )
            self.f.sets[field].add(val)
            self.ignored_tail(field, s, i + 1)
            return
        if c == "W":
            if field == DAY_OF_MONTH:
                self.f.nearest_weekday = True
            else:
                raise self.fail(
                    field,
                    f"'{s}': 'W' (nearest weekday) is only allowed in day-of-month",
                    fix_for(field),
                )
            if val > 31:
                raise self.fail(field, f"'{val}W': there is no day {val}", "use a day between 1 and 31, e.g. '15W'")
            if val == 0:
                self.f.warnings.append(
                    f"day-of-month field '{self.field_token}': Quartz accepts '0W' but loops forever "
                    "computing its fire times; use a day between 1 and 31"
                )
            self.f.sets[field].add(val)
            self.ignored_tail(field, s, i + 1)
            return
        if c == "#":
            if field != DAY_OF_WEEK:
                raise self.fail(
                    field,
                    f"'{s}': '#' (n-th weekday of the month) is only allowed in day-of-week",
                    fix_for(field),
                )
            i += 1
            nth = _java_parse_int(s[i:])
            if nth is None or nth < 1 or nth > 5:
                raise self.fail(field, *NTH_PROBLEM)
            self.f.nth_day_of_week = nth
            if val < 1 or val > 7:
                self.warn(field, f"{val} is not a day of the week (1-7), so this never fires")
            self.f.sets[field].add(val)
            return
        if c == "-":
            i += 1
            c = self.char_at(field, s, i)
            v = self.parse_int(field, c, "range end")
            end = v
            i += 1
            if i >= len(s):
                self.add(val, end, 1, field)
                return
            c = s[i]
            if _is_ascii_digit(c):
                end, i = self.get_value(field, v, s, i)
            if i < len(s) and s[i] == "/":
                i += 1
                c = self.char_at(field, s, i)
                v2 = self.parse_int(field, c, "increment after '/'")
                i += 1
                if i >= len(s):
                    self.add_step_range(val, end, v2, field)
                    return
                c = s[i]
                if _is_ascii_digit(c):
                    v3, i = self.get_value(field, v2, s, i)
                    self.ignored_tail(field, s, i)
                    self.add_step_range(val, end, v3, field)
                    return
                self.ignored_tail(field, s, i)
                self.add_step_range(val, end, v2, field)
                return
            self.ignored_tail(field, s, i)
            self.add(val, end, 1, field)
            return
        if c == "/":
            if i + 1 >= len(s) or s[i + 1] in " \t":
                raise self.fail(field, "'/' must be followed by an increment", "e.g. '0/15'")
            i += 1
            c = s[i]
            v2 = self.parse_int(field, c, "increment after '/'")
            i += 1
            if i >= len(s):
                self.check_increment(v2, field)
                self.add_step(val, v2, field)
                return
            c = s[i]
            if _is_ascii_digit(c):
                v3, i = self.get_value(field, v2, s, i)
                self.check_increment(v3, field)
                self.ignored_tail(field, s, i)
                self.add_step(val, v3, field)
                return
            raise self.fail(field, f"unexpected '{c}' after the increment", "e.g. '0/15'")
        self.ignored_tail(field, s, i)
        self.add(val, end, 0, field)

    def add_step(self, val: int, incr: int, field: int) -> None:
        if incr == 0:
            self.warn(field, f"Quartz reads '{val}/0' as just {val}")
        self.add(val, -1, incr, field)

    def add_step_range(self, val: int, end: int, incr: int, field: int) -> None:
        if incr == 0:
            self.warn(field, f"Quartz reads '{val}-{end}/0' as just {val}")
        self.add(val, end, incr, field)

    def add(self, val: int, end: int, incr: int, field: int) -> None:
        try:
            add_to_set(self.f.sets[field], field, val, end, incr, self.max_year)
        except SetProblem as exc:
            raise self.fail(field, exc.problem, exc.fix) from None



def _l_offset_re() -> re.Pattern[str]:
    global _L_OFFSET_RE
    if _L_OFFSET_RE is None:
        _L_OFFSET_RE = re.compile(r"L-[0-9]*W?")
    return _L_OFFSET_RE


def _replace_field(text: str, field: int, value: str) -> str | None:
    parts = text.split()
    if len(parts) not in (6, 7):
        return None
    parts[field] = value
    return " ".join(parts)


def parse_fields(text: str) -> ParsedFields:
    """Parse like ``new org.quartz.CronExpression(text)``; raises QuartzError on rejection."""
    if not isinstance(text, str):
        raise QuartzError(
            f"a Quartz cron expression must be a string, not {type(text).__name__}", None
        )
    try:
        return _Parser(text).parse()
    except _Reject as exc:
        raise QuartzError(
            exc.message, FIELD_NAMES[exc.field] if exc.field is not None else None
        ) from None
