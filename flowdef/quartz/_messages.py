"""The words of the Quartz parser: what is wrong with an expression and how to fix it, the quirks Quartz accepts
that are almost certainly mistakes (warnings), and the Unix-cron translation offered for a 5-field expression.
The accept/reject decisions themselves are in :mod:`._parse`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._common import (
    ALL_SPEC,
    DAY_NAMES,
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    FIELD_NAMES,
    HOUR,
    MINUTE,
    MONTH,
    NO_SPEC,
    SECOND,
    YEAR,
)

if TYPE_CHECKING:
    from ._parse import ParsedFields

_DAYS = {name: i + 1 for i, name in enumerate(DAY_NAMES)}

BOUNDS = {
    SECOND: (0, 59),
    MINUTE: (0, 59),
    HOUR: (0, 23),
    DAY_OF_MONTH: (1, 31),
    MONTH: (1, 12),
    DAY_OF_WEEK: (1, 7),
}

FORMAT_HINT = (
    "a Quartz cron expression has 6 or 7 space-separated fields: "
    "seconds minutes hours day-of-month month day-of-week [year], e.g. '0 30 2 ? * MON-FRI'"
)

NTH_PROBLEM = (
    "'#' must be followed by a number from 1 to 5 (the week of the month)",
    "e.g. '6#3' for the third Friday",
)
DOW_RANGE = (
    "day-of-week values must be between 1 and 7 (1 = SUN, 7 = SAT)",
    "e.g. '2' or 'MON'",
)


def range_problem(field: int, val: int, end: int) -> tuple[str, str]:
    lo, hi = BOUNDS[field]
    bad = val if (val < lo or val > hi) else end
    if field == DAY_OF_WEEK:
        return (
            f"{bad} is not a day of the week (1-7, 1 = SUN ... 7 = SAT; Unix cron's 0 = Sunday is 1 here)",
            "use 1-7 or SUN-SAT",
        )
    if field == MONTH:
        return (f"{bad} is not a month (1-12)", "use 1-12 or JAN-DEC")
    return (
        f"{bad} is out of range ({FIELD_NAMES[field]} values are {lo}-{hi})",
        f"use values between {lo} and {hi}",
    )


def fix_for(field: int) -> str:
    return {
        SECOND: "seconds accept 0-59, lists '0,30', ranges '0-29', steps '0/15' and '*'",
        MINUTE: "minutes accept 0-59, lists '0,30', ranges '0-29', steps '0/15' and '*'",
        HOUR: "hours accept 0-23, lists '8,17', ranges '9-17', steps '0/2' and '*'",
        DAY_OF_MONTH: "day-of-month accepts 1-31, lists, ranges, steps, '*', '?', 'L', 'L-n', 'LW' and 'nW' (e.g. '15W')",
        MONTH: "month accepts 1-12 or JAN-DEC, lists, ranges, steps and '*'",
        DAY_OF_WEEK: "day-of-week accepts 1-7 or SUN-SAT (1 = SUN), lists, ranges, '*', '?', 'nL' (e.g. '6L') and 'n#k' (e.g. '6#3')",
        YEAR: "year accepts 1970-2099, lists, ranges, steps and '*'",
    }[field]


def too_few_fields_message(text: str, count: int) -> str:
    if count == 5:
        converted = unix_to_quartz(text)
        msg = (
            f"'{text.strip()}' has 5 fields, which looks like Unix cron; Quartz needs 6 or 7 fields "
            "with seconds first and '?' in day-of-month or day-of-week (and numbers day-of-week 1 = Sunday)"
        )
        if converted:
            msg += f": use '{converted}'"
        else:
            parts = text.split()
            if parts[2] != "*" and parts[4] != "*":
                msg += (
                    "; Unix cron runs when EITHER the day of month or the day of week matches, which "
                    "Quartz cannot express: pick one of them and put '?' in the other"
                )
        return msg
    if count == 0:
        return f"the expression is empty; {FORMAT_HINT}"
    return f"'{text.strip()}' has only {count} field{'s' if count != 1 else ''}; {FORMAT_HINT}"


def unix_to_quartz(text: str) -> str | None:
    """Best-effort translation of a 5-field Unix cron expression to Quartz syntax."""
    parts = text.split()
    if len(parts) != 5:
        return None
    minute, hour, dom, month, dow = parts
    if dow != "*":
        converted = _unix_dow_to_quartz(dow)
        if converted is None:
            return None
        dow = converted
    if dom != "*" and dow != "*":
        # Unix cron fires when EITHER matches; Quartz cannot express that.
        return None
    if dow == "*":
        dow = "?"
    else:
        dom = "?"
    return " ".join(["0", minute, hour, dom, month, dow])


def _unix_dow_to_quartz(field: str) -> str | None:
    out = []
    for item in field.split(","):
        step = ""
        if "/" in item:
            item, step = item.split("/", 1)
            step = "/" + step
        if item == "*":
            out.append("*" + step)
            continue
        bounds = item.split("-")
        conv = []
        for b in bounds:
            if b.isdigit() and 0 <= int(b) <= 7:
                conv.append(str(int(b) % 7 + 1))
            elif b.upper()[:3] in _DAYS and len(b) == 3:
                conv.append(b.upper())
            else:
                return None
        if len(conv) == 2 and conv[0].isdigit() and conv[1].isdigit() and int(conv[1]) < int(conv[0]):
            # e.g. Unix '5-7' (Fri-Sun) -> Quartz '6-1' (wraps around, which Quartz supports)
            pass
        out.append("-".join(conv) + step)
    return ",".join(out)


def warnings_of(f: ParsedFields, max_year: int) -> list[str]:
    """Quirks Quartz accepts that are almost certainly mistakes, in words."""
    out: list[str] = []
    dow = f.sets[DAY_OF_WEEK] - {NO_SPEC, ALL_SPEC}
    if (f.nth_day_of_week or f.last_day_of_week) and len(dow) > 1:
        kind = "'#'" if f.nth_day_of_week else "'L'"
        out.append(
            f"day-of-week field '{f.tokens[DAY_OF_WEEK]}': with {kind} Quartz only uses the "
            f"smallest day ({DAY_NAMES[min(dow) - 1] if 1 <= min(dow) <= 7 else min(dow)}) and "
            "ignores the others"
        )
    if f.nearest_weekday and not f.last_day_of_month:
        dom = f.sets[DAY_OF_MONTH] - {NO_SPEC, ALL_SPEC}
        if len(dom) > 1:
            out.append(
                f"day-of-month field '{f.tokens[DAY_OF_MONTH]}': with 'W' Quartz only uses the "
                f"smallest day ({min(dom)}) and ignores the others"
            )
    for field in range(7):
        if not (f.sets[field] - {NO_SPEC, ALL_SPEC}) and not (
            field == DAY_OF_MONTH and f.last_day_of_month
        ):
            if NO_SPEC in f.sets[field]:
                continue
            token = f.tokens[field] if field < len(f.tokens) else "*"
            out.append(
                f"{FIELD_NAMES[field]} field '{token}' selects no value: Quartz accepts it "
                "but fails when computing fire times"
            )
    years = f.sets[YEAR] - {ALL_SPEC}
    if years and len(f.tokens) > YEAR:
        if max(years) < 1970 or min(years) > max_year:
            out.append(
                f"year field '{f.tokens[YEAR]}': no year between 1970 and {max_year}, "
                "so the schedule never fires"
            )
    return out
