"""Java time-zone ids: validation (``check_timezone``) and the offset rules the engine uses.

Quartz evaluates schedules in a ``java.util.TimeZone``.  ``TimeZone.getTimeZone(id)``
silently falls back to GMT for an id it does not know, so an unknown id must be
rejected here.  The ids Java 17 knows are in the generated ``flowdef.quartz._java_timezones``
(with aliases and, for the few ids Python's tz database lacks or disagrees on, the
transitions as Java sees them); Java's custom ids ``GMT+h``, ``GMT+hh:mm``, ``GMT-hhmm``
are accepted too, exactly as ``TimeZone`` parses them.
"""

from __future__ import annotations

import datetime as _dt
from bisect import bisect_right

from ._common import QuartzError

_UTC = _dt.timezone.utc
_zone_cache: dict[str, object] = {}


class FixedZone:
    __slots__ = ("id", "offset")

    def __init__(self, zone_id: str, offset: int) -> None:
        self.id = zone_id
        self.offset = offset

    def wall(self, utc: int) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(utc + self.offset, _UTC)

    def wall_offset(self, wall: int) -> int:
        return self.offset


class ZoneInfoZone:
    """A zone backed by the IANA database through ``zoneinfo``."""

    __slots__ = ("id", "zi")

    def __init__(self, zone_id: str, zi) -> None:
        self.id = zone_id
        self.zi = zi

    def wall(self, utc: int) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(utc, self.zi)

    def wall_offset(self, wall: int) -> int:
        # Java (sun.util.calendar.ZoneInfo.getOffsetsByWall): in a gap the offset before the
        # transition, in an overlap the offset after it -- in both cases the smaller one.
        naive = _EPOCH + _dt.timedelta(seconds=wall)
        o0 = self.zi.utcoffset(naive)
        o1 = self.zi.utcoffset(naive.replace(fold=1))
        off = o0 if o0 <= o1 else o1
        return off.days * 86400 + off.seconds


class TransitionZone:
    """A zone given by Java's own offset changes (for ids Python lacks or disagrees on).

    Two step functions, both as Java reports them: the offset of a UTC instant, and the
    offset GregorianCalendar applies to a wall-clock time (which resolves gaps/overlaps).
    """

    __slots__ = ("id", "utc_initial", "utc_times", "utc_offsets", "wall_initial", "wall_times", "wall_offsets")

    def __init__(self, zone_id: str, utc_initial: int, utc_changes, wall_initial: int, wall_changes) -> None:
        self.id = zone_id
        self.utc_initial = utc_initial
        self.utc_times = [t for t, _ in utc_changes]
        self.utc_offsets = [o for _, o in utc_changes]
        self.wall_initial = wall_initial
        self.wall_times = [t for t, _ in wall_changes]
        self.wall_offsets = [o for _, o in wall_changes]

    def wall(self, utc: int) -> _dt.datetime:
        i = bisect_right(self.utc_times, utc) - 1
        offset = self.utc_offsets[i] if i >= 0 else self.utc_initial
        return _dt.datetime.fromtimestamp(utc + offset, _UTC)

    def wall_offset(self, wall: int) -> int:
        i = bisect_right(self.wall_times, wall) - 1
        return self.wall_offsets[i] if i >= 0 else self.wall_initial


_EPOCH = _dt.datetime(1970, 1, 1)


def _parse_custom_id(tz: str) -> int | None:
    """``java.util.TimeZone.parseCustomTimeZone``: 'GMT' sign hours [[:]minutes]; offset seconds."""
    if len(tz) < 5 or not tz.startswith("GMT"):
        return None
    c = tz[3]
    if c not in "+-":
        return None
    negative = c == "-"
    hours = num = delims = length = 0
    for ch in tz[4:]:
        if ch == ":":
            if delims > 0 or length > 2:
                return None
            hours, delims, num, length = num, delims + 1, 0, 0
            continue
        if not "0" <= ch <= "9":
            return None
        num = num * 10 + (ord(ch) - 48)
        length += 1
    if delims == 0:
        if length <= 2:
            hours, num = num, 0
        else:
            hours, num = num // 100, num % 100
    elif length != 2:
        return None
    if hours > 23 or num > 59:
        return None
    offset = (hours * 60 + num) * 60
    return -offset if negative else offset


def _data():
    from flowdef.quartz import _java_timezones
    return _java_timezones


def check_timezone(tz: object) -> str | None:
    """None if Java (and so Quartz/Databricks) knows the time-zone id, else an error message."""
    if not isinstance(tz, str):
        return f"the time zone must be a string such as 'Europe/Berlin', not {type(tz).__name__}"
    data = _data()
    if tz in data.JAVA_TIMEZONE_IDS or _parse_custom_id(tz) is not None:
        return None
    if not tz.strip():
        return "the time zone is empty; use a Java time-zone id such as 'UTC' or 'Europe/Berlin'"
    suggestion = _suggest(tz, data.JAVA_TIMEZONE_IDS)
    if suggestion:
        return f"unknown timezone '{tz}'; did you mean '{suggestion}'?"
    return (
        f"unknown timezone '{tz}'; use a Java time-zone id such as 'UTC', 'Europe/Berlin' or "
        "'America/New_York' (Java would silently treat it as GMT)"
    )


def _suggest(tz: str, ids) -> str | None:
    import difflib

    stripped = tz.strip()
    if stripped in ids:
        return stripped
    if stripped.upper() in ("Z", "ZULU", "UTC", "UT", "GMT"):
        return "UTC" if "UTC" in ids else None
    by_lower: dict[str, str] = {}
    for zone_id in ids:
        by_lower.setdefault(zone_id.lower(), zone_id)
    key = stripped.lower().replace(" ", "_")
    if key in by_lower:
        return by_lower[key]
    # 'UTC+05:30' / '+05:30' -> Java's custom id syntax 'GMT+05:30'
    for prefix in ("utc", "ut", "z", ""):
        rest = stripped[len(prefix):]
        if stripped.lower().startswith(prefix) and rest[:1] in ("+", "-") and _parse_custom_id("GMT" + rest) is not None:
            return "GMT" + rest
    match = difflib.get_close_matches(key, list(by_lower), n=1, cutoff=0.6)
    if match:
        return by_lower[match[0]]
    # the city alone: 'Berlin' -> 'Europe/Berlin'
    cities: dict[str, str] = {}
    for zone_id in ids:
        cities.setdefault(zone_id.rsplit("/", 1)[-1].lower(), zone_id)
    match = difflib.get_close_matches(key, list(cities), n=1, cutoff=0.75)
    if match:
        return cities[match[0]]
    return None


def get_zone(tz: str):
    """The engine's zone object for a Java time-zone id; raises QuartzError for unknown ids."""
    zone = _zone_cache.get(tz)
    if zone is not None:
        return zone
    problem = check_timezone(tz)
    if problem:
        raise QuartzError(problem, "timezone")
    data = _data()
    custom = _parse_custom_id(tz) if tz not in data.JAVA_TIMEZONE_IDS else None
    recorded = data.transitions(tz) if custom is None else None
    if custom is not None:
        zone = FixedZone(tz, custom)
    elif recorded is not None:
        zone = TransitionZone(tz, *recorded)
    else:
        target = data.alias(tz)
        if target is None:
            target = tz
        if isinstance(target, int):
            zone = FixedZone(tz, target)
        else:
            import zoneinfo

            try:
                zone = ZoneInfoZone(tz, zoneinfo.ZoneInfo(target))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise QuartzError(
                    f"time zone '{tz}' is valid in Java but this Python has no tz data for it; "
                    "install the 'tzdata' package or the system tzdata",
                    "timezone",
                ) from None
    _zone_cache[tz] = zone
    return zone
