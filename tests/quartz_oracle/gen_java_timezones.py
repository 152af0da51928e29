"""Regenerate ``flowdef/quartz/_java_timezones.py`` from the installed JDK.

    python tests/quartz_oracle/gen_java_timezones.py [--check]

The id set is ``java.util.TimeZone.getAvailableIDs()`` (which contains every
``ZoneId.getAvailableZoneIds()`` id plus Java's old three-letter ids such as
``PST``): those are the ids ``TimeZone.getTimeZone`` -- what Quartz uses -- knows;
any other id silently becomes GMT.

For the engine, each id must map to the offsets Java uses.  Where Python's
``zoneinfo`` has the same id with the same offsets from 1969 to 2128 nothing is
recorded; otherwise the generator records an alias (another Python zone or a fixed
offset with identical offsets) or, failing that, Java's own list of offset
changes.  ``--check`` only reports whether the file is up to date.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import subprocess
import sys
import zoneinfo
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE.parent.parent / "flowdef" / "_java_timezones.py"

_spec = importlib.util.spec_from_file_location("quartz_oracle_helper", HERE / "oracle.py")
oracle = importlib.util.module_from_spec(_spec)
sys.modules["quartz_oracle_helper"] = oracle
assert _spec.loader is not None
_spec.loader.exec_module(oracle)

START = -31536000  # 1969-01-01: the engine only evaluates instants from 1970 on
END = 5017996800  # 2129-01-01
SAMPLE = 5 * 86400


def step_fn(initial: int, changes: list[tuple[int, int]]):
    """The step function 'offset at t' described by (initial, [(t, new offset), ...])."""
    import bisect

    times = [t for t, _ in changes]

    def offset(t: int) -> int:
        i = bisect.bisect_right(times, t) - 1
        return changes[i][1] if i >= 0 else initial

    return offset


def python_utc_fn(key: str):
    zi = zoneinfo.ZoneInfo(key)

    def offset(t: int) -> int:
        off = dt.datetime.fromtimestamp(t, zi).utcoffset()
        return off.days * 86400 + off.seconds

    return offset


def python_wall_fn(key: str):
    """The engine's rule for wall times (flowdef.quartz._zones.ZoneInfoZone.wall_offset)."""
    zi = zoneinfo.ZoneInfo(key)
    epoch = dt.datetime(1970, 1, 1)

    def offset(w: int) -> int:
        naive = epoch + dt.timedelta(seconds=w)
        off = min(zi.utcoffset(naive), zi.utcoffset(naive.replace(fold=1)))
        return off.days * 86400 + off.seconds

    return offset


def same(java_fn, changes, py_fn) -> bool:
    points = set(range(START, END, SAMPLE))
    for t, _ in changes:
        if t > START:
            points.update((t - 1, t))
    return all(java_fn(t) == py_fn(t) for t in sorted(points))


def parse_changes(text: str) -> tuple[int, list[tuple[int, int]]]:
    first, *items = text.split(" ")
    initial = int(first)
    changes = [(int(a), int(b)) for a, b in (item.split(":") for item in items)]
    # only 1969 onwards matters (fire times are computed for instants from 1970 on)
    while changes and changes[0][0] <= START:
        initial = changes.pop(0)[1]
    return initial, changes


def matches(key: str, utc, wall) -> bool:
    return same(step_fn(*utc), utc[1], python_utc_fn(key)) and same(
        step_fn(*wall), wall[1], python_wall_fn(key)
    )


def main(argv: list[str]) -> int:
    reason = oracle.unavailable_reason()
    if reason:
        print(f"cannot run the JDK: {reason}", file=sys.stderr)
        return 2
    java_version = subprocess.run(
        ["java", "-version"], capture_output=True, text=True, check=False
    ).stderr.splitlines()[0]
    python_ids = zoneinfo.available_timezones()
    ids: list[str] = []
    aliases: dict[str, object] = {}
    transitions: dict[str, tuple] = {}
    for line in oracle.java_zones():
        zone_id, _source, target, utc_text, wall_text = line.split("\t")
        ids.append(zone_id)
        utc = parse_changes(utc_text)
        wall = parse_changes(wall_text)
        if not utc[1] and not wall[1] and utc[0] == wall[0]:
            aliases[zone_id] = utc[0]  # a fixed offset since 1969: no tz lookups needed at all
        elif zone_id in python_ids and matches(zone_id, utc, wall):
            continue
        elif target != zone_id and target in python_ids and matches(target, utc, wall):
            aliases[zone_id] = target
        else:
            transitions[zone_id] = (utc[0], tuple(utc[1]), wall[0], tuple(wall[1]))
            print(f"note: {zone_id}: Python's tz data differs from Java's; recording Java's offsets", file=sys.stderr)

    text = render(sorted(ids), aliases, transitions, java_version)
    if "--check" in argv:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date", file=sys.stderr)
            return 1
        print(f"{TARGET} is up to date")
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET}: {len(ids)} ids, {len(aliases)} aliases, {len(transitions)} with own offsets")
    return 0


def _wrap(words: list[str], width: int = 96) -> list[str]:
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


def _changes_text(initial: int, changes) -> str:
    return " ".join([str(initial)] + [f"{t}:{o}" for t, o in changes])


_ACCESSORS = '''
_alias_map: dict[str, str | int] | None = None


def alias(zone_id: str) -> str | int | None:
    """A fixed offset (seconds) or the zoneinfo key to use for a Java id; None: use the id itself."""
    global _alias_map
    if _alias_map is None:
        pairs = (item.split("=", 1) for item in _ALIASES.split())
        _alias_map = {k: int(v) if v.lstrip("-").isdigit() else v for k, v in pairs}
    return _alias_map.get(zone_id)


def _decode(text: str) -> tuple[int, tuple[tuple[int, int], ...]]:
    first, *items = text.split()
    return int(first), tuple((int(t), int(o)) for t, o in (item.split(":") for item in items))


def transitions(zone_id: str):
    """Java's own offsets for ids Python's tz data cannot stand in for, else None."""
    texts = _TRANSITIONS.get(zone_id)
    if texts is None:
        return None
    utc_initial, utc_changes = _decode(texts[0])
    wall_initial, wall_changes = _decode(texts[1])
    return utc_initial, utc_changes, wall_initial, wall_changes
'''


def render(ids, aliases, transitions, java_version: str) -> str:
    # Plain strings decoded on first use: importing the module stays cheap even without .pyc files.
    out = [
        '"""Time-zone ids known to Java 17 (``java.util.TimeZone.getAvailableIDs()``).',
        "",
        "GENERATED by tests/quartz_oracle/gen_java_timezones.py -- do not edit by hand.",
        f"Source: {java_version}.",
        "",
        "JAVA_TIMEZONE_IDS: every id ``TimeZone.getTimeZone`` resolves (others silently become GMT).",
        "alias(id): for ids with a fixed offset since 1969, that offset in seconds; for ids Python's",
        "  zoneinfo lacks (or disagrees on), a zoneinfo key that behaves like Java from 1969 to 2128.",
        "transitions(id): for ids with no such equivalent, Java's own offsets:",
        "  (offset before the first change, ((utc epoch second, new offset), ...), and the same two",
        "  for wall-clock times (seconds since 1970-01-01T00:00 local time: the offset GregorianCalendar",
        "  applies to a local time, which is where gaps and overlaps are resolved)).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        '_IDS = """',
    ]
    out += _wrap(list(ids))
    out += ['"""', "", "JAVA_TIMEZONE_IDS = frozenset(_IDS.split())", "", '_ALIASES = """']
    out += _wrap([f"{k}={v}" for k, v in sorted(aliases.items())])
    out += ['"""', "", "_TRANSITIONS = {"]
    for k, (utc_initial, utc_changes, wall_initial, wall_changes) in sorted(transitions.items()):
        out.append(f"    {k!r}: (")
        for text in (_changes_text(utc_initial, utc_changes), _changes_text(wall_initial, wall_changes)):
            out.append('        """')
            out += ["        " + line for line in _wrap(text.split(" "), 88)]
            out.append('        """,')
        out.append("    ),")
    out += ["}"]
    return "\n".join(out) + "\n" + _ACCESSORS


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
