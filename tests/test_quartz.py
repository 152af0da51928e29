"""flowdef.quartz against the real Quartz library, plus known answers that need no Java.

The oracle tests run ``tests/quartz_oracle/QuartzOracle.java`` (org.quartz.CronExpression 2.3.2 on the
machine's JDK) in ONE JVM for all explicit and hypothesis-generated cases; they skip with the reason when
java/javac or the Quartz jar are missing (Debian: libquartz2-java, default-jdk-headless).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import sys
from pathlib import Path

import pytest

from flowdef.quartz import CronExpression, QuartzError, check_timezone, describe, next_fire_times, parse

UTC = dt.timezone.utc
HERE = Path(__file__).resolve().parent


def _load_oracle():
    name = "flowdef_tests_quartz_oracle"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "quartz_oracle" / "oracle.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


oracle = _load_oracle()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ms(value: dt.datetime) -> int:
    return int(value.timestamp()) * 1000


def max_year() -> int:
    return dt.date.today().year + 100


# --------------------------------------------------------------------------------------------------
# Expressions checked against the oracle: accept/reject decision and next fire times.
# --------------------------------------------------------------------------------------------------
EXPRESSIONS = [
    # everyday shapes
    "* * * * * ?", "0 * * * * ?", "0 0 * * * ?", "0 0 12 * * ?", "0 30 2 * * ?", "0 30 2 ? * *",
    "0 15 10 ? * *", "0 15 10 * * ? *", "0 15 10 * * ? 2027", "0 * 14 * * ?", "0 0/5 14 * * ?",
    "0 0/5 14,18 * * ?", "0 0-5 14 * * ?", "0 10,44 14 ? 3 WED", "0 15 10 ? * MON-FRI", "0 15 10 15 * ?",
    "0 30 2 ? * MON-FRI", "0 0 9-17 ? * MON-FRI", "0 */15 9-17 ? * MON-FRI", "30 45 23 * * ?",
    "0 0 0 * * ?", "59 59 23 * * ?", "0 0 0 1 1 ?", "0 11 11 11 11 ?", "15 10 * * * ?", "*/10 * * * * ?",
    # day-of-week numbers and names (1 = Sunday)
    "0 0 12 ? * 1", "0 0 12 ? * 7", "0 0 12 ? * SUN", "0 0 12 ? * sat", "0 0 12 ? * mon-fri",
    "0 0 12 ? * 2,4,6", "0 0 12 ? * MON,WED,FRI", "0 0 12 ? * 1-7", "0 0 12 ? * FRI-MON", "0 0 12 ? * 6-2",
    "0 0 12 ? * SAT-SUN", "0 0 12 ? * 2-6/2", "0 0 12 ? * */2", "0 0 12 ? * 1/3", "0 0 12 ? * MONDAY",
    "0 0 12 ? * THURSDAY", "0 0 12 ? * 0", "0 0 12 ? * 8", "0 0 12 ? * MOX", "0 0 12 ? * MO",
    # n-th and last weekday of the month
    "0 0 12 ? * 6#3", "0 0 12 ? * 1#1", "0 0 0 ? * 6#5", "0 0 0 ? * 2#5", "0 0 12 ? * FRI#2",
    "0 0 12 ? * 6#6", "0 0 12 ? * 6#0", "0 0 12 ? * 6#", "0 0 12 ? * 6#1,2#2", "0 0 12 ? * 6#1#2",
    "0 0 12 ? * 2,6#2", "0 0 12 ? * 9#2", "0 0 12 ? * 6L", "0 0 12 ? * 1L", "0 0 12 ? * FRIL",
    "0 0 12 ? * L", "0 0 12 ? * 6L,2", "0 0 12 ? * 8L", "0 0 12 ? * 6#+2",
    # last day / nearest weekday
    "0 0 12 L * ?", "0 15 10 L * ?", "0 0 12 LW * ?", "0 0 12 L-3 * ?", "0 0 12 L-0 * ?",
    "0 0 12 L-30 * ?", "0 0 12 L-31 * ?", "0 0 12 L-3W * ?", "0 0 12 L-W * ?", "0 0 12 L- * ?",
    "0 0 12 15W * ?", "0 0 12 1W * ?", "0 0 12 31W * ?", "0 0 12 30W * ?", "0 0 12 32W * ?",
    "0 0 12 L,15 * ?", "0 0 12 LW,1 * ?", "0 0 12 5L * ?", "0 0 12 W * ?", "0 0 12 LX * ?",
    "0 0 12 1W,15 * ?", "0 0 0 L 2 ?",
    # days of month, months
    "0 0 0 29 2 ? *", "0 0 0 31 * ?", "0 0 0 30 2 ?", "0 0 12 1/5 * ?", "0 0 12 1,15 * ?",
    "0 0 12 10-20 * ?", "0 0 12 25-5 * ?", "0 0 12 1 JAN-MAR ?", "0 0 12 1 */3 ?", "0 0 12 1 2/3 ?",
    "0 0 12 1 NOV-FEB ?", "0 0 12 1 jan,jul ?", "0 0 12 1 JANUARY ?", "0 0 12 1 13 ?", "0 0 12 0 * ?",
    "0 0 12 32 * ?", "0 0 12 1 JAN-FOO ?", "0 0 12 1 FOO ?",
    # steps and ranges on time fields
    "0/15 * * * * ?", "5-50/10 * * * * ?", "*/5 * * * * ?", "/5 * * * * ?", "0 0/30 * * * ?",
    "0 5/15 * * * ?", "0 0 */2 * * ?", "0 0 1-23/2 * * ?", "0 0 22-2 * * ?", "50-10 * * * * ?",
    "0 0 0/0 * * ?", "*/0 * * * * ?", "0 0/60 * * * ?", "0 0 0/24 * * ?", "0 0-59/100 * * * ?",
    "0 5-5 * * * ?", "0 0 12 1 1/0 ?",
    # year field
    "0 0 0 1 1 ? 2030", "0 0 0 1 1 ? 2030-2035", "0 0 0 1 1 ? 2030/5", "0 0 0 1 1 ? 2030,2040",
    "0 0 0 1 1 ? 1969", "0 0 0 1 1 ? 2100", "0 0 0 1 1 ? 3000", "0 0 0 1 1 ? 2035-2030",
    "0 0 12 ? * 6L 2027-2029", "0 0 0 ? JAN-MAR SUN#2 2030",
    # invalid and odd structure
    "* * * * * *", "0 0 12 * * 1", "0 0 12 1 * 1", "0 0 12 ? * ?", "0 0 12 * * *", "0 12 * * *",
    "0 0 12 * *", "", "   ", "0 0 12 ? * 1 2027 extra", "60 * * * * ?", "0 60 * * * ?", "0 0 24 * * ?",
    "-1 * * * * ?", "0 0 12 ?? * 1", "0 0 12 ?X * 1", "0 0 12 ? * 1?", "0 ? 12 * * ?", "0 0 12 * ? ?",
    "0 0 12 ? * 1-", "0 0 12 1-40 * ?", "0 0 12 * * ?\t", "  0   0 12 * * ?  ", "0\t0\t12\t*\t*\t?",
    "0 0 12 #3 * ?", "0 0 12 3# * ?", "0 0 12 * * ? #", "0 0 12 ,, * ?", "0 0 12 1,,15 * ?",
    "0 0 12 , * ?", "0 0 12 * * ? 2027,", "0 0 1/ * * ?", "0 0 */ * * ?", "0 0 12 1-5/ * ?",
    "0 0 12 99 * ?", "0 0 12 98 * ?", "99 0 12 * * ?", "0 0 12 * * 98", "0 0 12 ? * 99",
    "0 0 12 L * ? L", "L 0 12 * * ?", "0 0 12 ? L *", "0 0 12 ? * LW", "0 0 12 ? * L-3",
    "0 0 12 ? * 2W", "0 0 12 1L * ?", "0 0 12 1#2 * ?", "0 0 12-13x * * ?", "0 0 12 * * ?x",
    "0 0 12 1-5X * ?", "0 0 12 */5X * ?", "0 0 12 1/5X * ?", "0 0 99999999999 * * ?",
]

# (tz, after) contexts; every expression runs in two of them, chosen round-robin.
CONTEXTS = [
    ("UTC", "2026-01-01T00:00:00Z"),
    ("Europe/Berlin", "2026-03-27T22:00:00Z"),
    ("America/New_York", "2026-10-31T20:00:00Z"),
    ("America/Sao_Paulo", "2018-11-02T12:00:00Z"),
    ("Australia/Lord_Howe", "2026-10-02T12:00:00Z"),
    ("Asia/Kolkata", "2026-11-26T10:00:00Z"),
    ("America/New_York", "2026-03-07T12:00:00Z"),
    ("Europe/Berlin", "2026-10-24T12:34:56Z"),
    ("UTC", "2028-02-28T23:59:59Z"),
    ("Australia/Lord_Howe", "2026-04-04T10:00:00Z"),
    ("America/Sao_Paulo", "2019-02-15T20:00:00Z"),
    ("UTC", "2030-12-31T23:59:30Z"),
]

# Dense schedules around daylight-saving transitions (gap and overlap) in the zones of interest.
DST_EXPRESSIONS = [
    "0 0 * * * ?", "0 */15 * * * ?", "0 30 * * * ?", "0 30 2 * * ?", "0 0 2 * * ?", "0 30 1 * * ?",
    "0 0 0 * * ?", "0 0 23 * * ?", "0 * 2 * * ?", "0 0 1-3 * * ?", "0 0 0 ? * SUN", "0 0 2 ? * 1#1",
    "0 0 0 L * ?", "0 0 0 1W * ?", "30 59 1 * * ?", "0 45 23,0,1 * * ?",
]
DST_CONTEXTS = [
    ("America/New_York", "2026-03-07T20:00:00Z"),  # 2026-03-08 02:00 -> 03:00
    ("America/New_York", "2026-10-31T20:00:00Z"),  # 2026-11-01 02:00 -> 01:00
    ("Europe/Berlin", "2026-03-28T20:00:00Z"),  # 2026-03-29 02:00 -> 03:00
    ("Europe/Berlin", "2026-10-24T20:00:00Z"),  # 2026-10-25 03:00 -> 02:00
    ("America/Sao_Paulo", "2018-11-03T18:00:00Z"),  # 2018-11-04 00:00 -> 01:00 (midnight gap)
    ("America/Sao_Paulo", "2019-02-16T18:00:00Z"),  # 2019-02-17 00:00 -> 2019-02-16 23:00
    ("America/Sao_Paulo", "2026-03-01T00:00:00Z"),  # no DST any more
    ("Australia/Lord_Howe", "2026-10-03T10:00:00Z"),  # 02:00 -> 02:30 (30-minute DST)
    ("Australia/Lord_Howe", "2026-04-04T10:00:00Z"),  # 02:00 -> 01:30
    ("Asia/Kolkata", "2026-03-28T20:00:00Z"),
    ("UTC", "2026-03-28T20:00:00Z"),
    # Java-only or Java-specific zone data (recorded transitions / aliases)
    ("SystemV/EST5EDT", "2026-04-25T20:00:00Z"),
    ("PST", "2026-03-07T20:00:00Z"),
    ("Asia/Gaza", "2037-10-08T20:00:00Z"),
    ("GMT+05:30", "2026-01-01T00:00:00Z"),
]


def explicit_cases() -> list[tuple[str, str, dt.datetime, int]]:
    cases = []
    for i, expr in enumerate(EXPRESSIONS):
        for k in (0, 5):
            tz, after = CONTEXTS[(i + k) % len(CONTEXTS)]
            cases.append((expr, tz, at(after), 5))
    for expr in DST_EXPRESSIONS:
        for tz, after in DST_CONTEXTS:
            cases.append((expr, tz, at(after), 8))
    # the end of time: Quartz stops after MAX_YEAR (this year + 100)
    cases.append(("0 0 0 1 1 ?", "UTC", dt.datetime(max_year() - 3, 6, 1, tzinfo=UTC), 10))
    cases.append(("0 0 0 ? * 6#5", "UTC", dt.datetime(max_year() - 1, 1, 1, tzinfo=UTC), 10))
    return cases


def test_expression_list_is_big_and_distinct():
    assert len(set(EXPRESSIONS)) == len(EXPRESSIONS)
    assert len(set(EXPRESSIONS) | set(DST_EXPRESSIONS)) >= 150


def _compare(expr: str, tz: str, after: dt.datetime, count: int, res) -> str | None:
    """None when flowdef.quartz agrees with the oracle result, else a description of the difference."""
    try:
        parsed = parse(expr)
    except QuartzError as exc:
        if res.kind == "ERR":
            return None
        return f"{expr!r}: flowdef rejects ({exc.message}) but Quartz accepts"
    if res.kind == "ERR":
        return f"{expr!r}: flowdef accepts but Quartz rejects ({res.message})"
    want = [iso(dt.datetime.fromtimestamp(m / 1000, UTC)) for m in res.times_ms]
    if res.kind == "OK":
        try:
            got = [iso(t) for t in parsed.next_fire_times(after, tz, count)]
        except QuartzError as exc:
            return f"{expr!r} {tz} after {iso(after)}: flowdef raises {exc.message!r}, Quartz gives {want}"
        if got != want:
            return f"{expr!r} {tz} after {iso(after)}:\n  quartz  {want}\n  flowdef {got}"
        return None
    # Quartz threw or never returned after len(want) fire times: flowdef must agree on those, then raise.
    got = [iso(t) for t in parsed.next_fire_times(after, tz, len(want))]
    if got != want:
        return f"{expr!r} {tz} after {iso(after)}: before failing, quartz {want} flowdef {got}"
    with pytest.raises(QuartzError):
        parsed.next_fire_times(after, tz, len(want) + 1)
    return None


@pytest.fixture(scope="module")
def oracle_run():
    """Every oracle case of this module -- explicit and hypothesis-generated -- in ONE JVM run."""
    reason = oracle.unavailable_reason()
    if reason:
        pytest.skip(f"Quartz oracle unavailable: {reason}")
    cases = explicit_cases()
    generated = generate_random_cases() if st is not None else []
    results = oracle.run_cases(
        [(e, tz, ms(a), n) for e, tz, a, n in cases] + [(e, tz, ms(a), 5) for e, tz, a, _ in generated]
    )
    return list(zip(cases, results)), list(zip(generated, results[len(cases):]))


@pytest.fixture(scope="module")
def oracle_answers(oracle_run):
    return oracle_run[0]


def test_matches_real_quartz(oracle_answers):
    problems = [p for (case, res) in oracle_answers if (p := _compare(*case, res))]
    assert not problems, f"{len(problems)} differences from Quartz:\n" + "\n".join(problems[:20])


def test_oracle_cases_cover_accept_reject_and_failures(oracle_answers):
    kinds = {}
    for _case, res in oracle_answers:
        kinds[res.kind] = kinds.get(res.kind, 0) + 1
    assert kinds.get("OK", 0) > 300 and kinds.get("ERR", 0) > 80
    assert kinds.get("TIMEOUT", 0) + kinds.get("EXC", 0) >= 1  # e.g. ',' seconds; Quartz fails at run time


# --------------------------------------------------------------------------------------------------
# hypothesis: random valid expressions, generated first, then checked in ONE JVM call
# --------------------------------------------------------------------------------------------------
try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    st = None

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "America/Sao_Paulo", "Australia/Lord_Howe", "Asia/Kolkata",
         "Pacific/Chatham", "America/Santiago", "Europe/London", "Asia/Tehran", "PST"]

if st is not None:

    def _values(lo: int, hi: int, names: list[str] | None = None):
        num = st.integers(lo, hi).map(str)
        rng = st.tuples(num, num).map(lambda p: f"{p[0]}-{p[1]}")
        if names:  # Quartz wants names or numbers, not both, in a range
            name = st.sampled_from(names)
            num = num | name
            rng = rng | st.tuples(name, name).map(lambda p: f"{p[0]}-{p[1]}")
        single = num
        step = st.tuples(st.integers(lo, hi), st.integers(1, hi - lo if hi - lo <= 59 else 12)).map(
            lambda p: f"{p[0]}/{p[1]}"
        )
        star_step = st.integers(1, min(hi - lo, 30)).map(lambda n: f"*/{n}")
        item = st.one_of(single, rng, step, star_step)
        return st.one_of(st.just("*"), item, st.lists(item, min_size=2, max_size=4).map(",".join))

    MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
    dom_special = st.one_of(
        st.just("L"), st.just("LW"), st.integers(0, 30).map(lambda n: f"L-{n}"),
        st.integers(1, 31).map(lambda n: f"{n}W"),
    )
    dow_special = st.one_of(
        st.integers(1, 7).map(lambda n: f"{n}L"),
        st.tuples(st.integers(1, 7), st.integers(1, 5)).map(lambda p: f"{p[0]}#{p[1]}"),
        st.tuples(st.sampled_from(DAYS), st.integers(1, 5)).map(lambda p: f"{p[0]}#{p[1]}"),
    )

    @st.composite
    def cron_cases(draw):
        fields = [
            draw(_values(0, 59)) if draw(st.booleans()) else str(draw(st.integers(0, 59))),
            draw(_values(0, 59)) if draw(st.booleans()) else str(draw(st.integers(0, 59))),
            draw(_values(0, 23)),
        ]
        if draw(st.booleans()):
            dom = draw(st.one_of(_values(1, 31), dom_special))
            dow = "?"
        else:
            dom = "?"
            dow = draw(st.one_of(_values(1, 7, DAYS), dow_special))
        fields += [dom, draw(_values(1, 12, MONTHS)), dow]
        if draw(st.integers(0, 3)) == 0:
            fields.append(draw(st.one_of(st.just("*"), st.integers(2026, 2060).map(str),
                                         st.tuples(st.integers(2026, 2040), st.integers(2040, 2070))
                                         .map(lambda p: f"{p[0]}-{p[1]}"))))
        expr = " ".join(fields)
        if draw(st.integers(0, 4)) == 0:
            expr = expr.lower()
        tz = draw(st.sampled_from(ZONES))
        after = draw(st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2060, 1, 1))).replace(
            microsecond=0, tzinfo=UTC
        )
        return expr, tz, after


def generate_random_cases() -> list[tuple[str, str, dt.datetime, list[dt.datetime]]]:
    """Run the hypothesis property (valid by construction, increasing fire times) and keep the examples."""
    collected: list[tuple[str, str, dt.datetime, list[dt.datetime]]] = []

    @settings(
        max_examples=int(os.environ.get("FLOWDEF_QUARTZ_EXAMPLES", "300")),
        derandomize=os.environ.get("FLOWDEF_QUARTZ_RANDOM") != "1",
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(cron_cases())
    def generate(case):
        expr, tz, after = case
        fires = parse(expr).next_fire_times(after, tz, 5)  # valid by construction
        assert all(f > after for f in fires) and fires == sorted(set(fires))
        collected.append((expr, tz, after, fires))

    generate()
    return collected


@pytest.mark.skipif(st is None, reason="hypothesis is not installed")
def test_hypothesis_random_valid_expressions_match_quartz(oracle_run):
    generated = oracle_run[1]
    problems = []
    for (expr, tz, after, fires), res in generated:
        if res.kind != "OK":
            problems.append(f"{expr!r}: Quartz says {res.kind} {res.message}")
        elif [ms(f) for f in fires] != list(res.times_ms):
            problems.append(f"{expr!r} {tz} after {iso(after)}: quartz "
                            f"{[iso(dt.datetime.fromtimestamp(m / 1000, UTC)) for m in res.times_ms]} "
                            f"flowdef {[iso(f) for f in fires]}")
    assert len(generated) >= 100
    assert not problems, "\n".join(problems[:20])


# --------------------------------------------------------------------------------------------------
# time zones against Java
# --------------------------------------------------------------------------------------------------
def test_timezone_ids_match_java():
    reason = oracle.unavailable_reason()
    if reason:
        pytest.skip(f"Quartz oracle unavailable: {reason}")
    import re

    import flowdef.quartz._java_timezones as generated
    from flowdef.quartz._java_timezones import JAVA_TIMEZONE_IDS

    made_with = re.search(r'version "([^"]+)"', generated.__doc__ or "")
    running = re.search(r"(\d+\.\d+\.\d+)", oracle._java_version())
    if made_with and running and made_with.group(1) != running.group(1):
        # Another JDK carries other tz data: the id list is stale, which is a regeneration job, not a bug.
        pytest.skip(f"flowdef/quartz/_java_timezones.py was generated with Java {made_with.group(1)}, this JDK is "
                    f"{running.group(1)}: run tests/quartz_oracle/gen_java_timezones.py to compare")
    assert set(oracle.java_timezone_ids()) == set(JAVA_TIMEZONE_IDS)
    probes = ["Europe/Berlin", "PST", "EST", "SystemV/EST5EDT", "GMT+5", "GMT+05:30", "GMT-0800", "GMT+5:30",
              "GMT+24", "GMT+5:3", "UTC+05:30", "+05:30", "Europe/Berln", "europe/berlin", "Z", "", "GMT+",
              "GMT-00:00", "GMT+123", "GMT+1234", "GMT+12345", "Etc/GMT+5", "US/Pacific", "Asia/Calcutta"]
    resolved = oracle.resolve_timezones(probes)
    for probe, (java_id, _raw) in zip(probes, resolved):
        java_knows = not (java_id == "GMT" and probe != "GMT")
        assert (check_timezone(probe) is None) == java_knows, (probe, java_id)


# --------------------------------------------------------------------------------------------------
# known answers (obtained from the oracle) -- these run without Java
# --------------------------------------------------------------------------------------------------
KNOWN = [
    ("0 0 12 ? * 1", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-04T12:00:00Z", "2026-01-11T12:00:00Z", "2026-01-18T12:00:00Z"]),  # 1 = Sunday
    ("0 0 12 ? * 6#3", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-16T12:00:00Z", "2026-02-20T12:00:00Z", "2026-03-20T12:00:00Z"]),  # third Friday
    ("* * * * * ?", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", "2026-01-01T00:00:03Z"]),
    ("0 0 12 L * ?", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-31T12:00:00Z", "2026-02-28T12:00:00Z", "2026-03-31T12:00:00Z"]),
    ("0 0 12 LW * ?", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-30T12:00:00Z", "2026-02-27T12:00:00Z", "2026-03-31T12:00:00Z"]),
    ("0 0 12 15W * ?", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-15T12:00:00Z", "2026-02-16T12:00:00Z", "2026-03-16T12:00:00Z"]),
    # 2026-08-01 is a Saturday: 1W never crosses into July, it moves to Monday the 3rd
    ("0 0 12 1W * ?", "UTC", "2026-07-15T00:00:00Z", ["2026-08-03T12:00:00Z", "2026-09-01T12:00:00Z"]),
    # 2026-05-31 is a Sunday: 31W moves back to Friday the 29th; June has no 31st
    ("0 0 12 31W * ?", "UTC", "2026-05-01T00:00:00Z", ["2026-05-29T12:00:00Z", "2026-07-31T12:00:00Z"]),
    ("0 0 12 L-3 * ?", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-28T12:00:00Z", "2026-02-25T12:00:00Z", "2026-03-28T12:00:00Z"]),
    ("0 0 12 ? * 6L", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-30T12:00:00Z", "2026-02-27T12:00:00Z", "2026-03-27T12:00:00Z"]),
    # 'L' alone in day-of-week is Saturday
    ("0 0 12 ? * L", "UTC", "2026-01-01T00:00:00Z", ["2026-01-03T12:00:00Z", "2026-01-10T12:00:00Z"]),
    ("0 0 12 ? * FRI-MON", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-02T12:00:00Z", "2026-01-03T12:00:00Z", "2026-01-04T12:00:00Z", "2026-01-05T12:00:00Z",
      "2026-01-09T12:00:00Z"]),
    ("0 0 0 29 2 ? *", "UTC", "2026-01-01T00:00:00Z",
     ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"]),
    ("0 0 0 ? * 6#5", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-30T00:00:00Z", "2026-05-29T00:00:00Z", "2026-07-31T00:00:00Z"]),
    ("0 0 0 31 * ?", "UTC", "2026-01-01T00:00:00Z",
     ["2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"]),
    # spring forward: a 02:30 daily schedule skips the day without 02:30
    ("0 30 2 * * ?", "America/New_York", "2026-03-07T00:00:00Z",
     ["2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"]),
    ("0 30 2 * * ?", "Europe/Berlin", "2026-03-28T00:00:00Z", ["2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z"]),
    # fall back: a time in the repeated hour fires once, at its second (standard-time) occurrence
    ("0 30 2 * * ?", "Europe/Berlin", "2026-10-24T00:00:00Z", ["2026-10-24T00:30:00Z", "2026-10-25T01:30:00Z"]),
    ("0 30 1 * * ?", "America/New_York", "2026-10-31T12:00:00Z", ["2026-11-01T06:30:00Z", "2026-11-02T06:30:00Z"]),
    # hourly across the overlap: 01:00 EDT (05:00Z) is skipped, 01:00 EST (06:00Z) fires once
    ("0 0 * * * ?", "America/New_York", "2026-11-01T03:30:00Z",
     ["2026-11-01T04:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z",
      "2026-11-01T09:00:00Z"]),
    # Lord Howe: 30-minute DST
    ("0 */30 * * * ?", "Australia/Lord_Howe", "2026-10-03T14:00:00Z",
     ["2026-10-03T14:30:00Z", "2026-10-03T15:00:00Z", "2026-10-03T15:30:00Z", "2026-10-03T16:00:00Z",
      "2026-10-03T16:30:00Z"]),
    ("0 0 * * * ?", "Australia/Lord_Howe", "2026-04-04T13:00:00Z",
     ["2026-04-04T14:00:00Z", "2026-04-04T15:30:00Z", "2026-04-04T16:30:00Z", "2026-04-04T17:30:00Z",
      "2026-04-04T18:30:00Z"]),
    # Sao Paulo's DST began at midnight: a midnight schedule skips 2018-11-04
    ("0 0 0 * * ?", "America/Sao_Paulo", "2018-11-02T12:00:00Z",
     ["2018-11-03T03:00:00Z", "2018-11-05T02:00:00Z", "2018-11-06T02:00:00Z"]),
    ("0 0 23 * * ?", "America/Sao_Paulo", "2019-02-15T12:00:00Z",
     ["2019-02-16T01:00:00Z", "2019-02-17T02:00:00Z", "2019-02-18T02:00:00Z"]),
    ("0 0 9 ? * MON-FRI", "Asia/Kolkata", "2026-11-26T10:00:00Z",
     ["2026-11-27T03:30:00Z", "2026-11-30T03:30:00Z", "2026-12-01T03:30:00Z"]),
    ("0 0 12 ? * 9#2", "UTC", "2026-01-01T00:00:00Z", []),  # accepted by Quartz, never fires
]


@pytest.mark.parametrize("expr,tz,after,want", KNOWN, ids=[f"{e} {tz}" for e, tz, _, _ in KNOWN])
def test_known_answers(expr, tz, after, want):
    got = parse(expr).next_fire_times(at(after), tz, len(want) or 3)
    assert [iso(t) for t in got] == want
    assert all(t.tzinfo is not None and t.utcoffset() == dt.timedelta(0) for t in got)


def test_quartz_stops_after_max_year():
    last = max_year()
    got = next_fire_times("0 0 0 1 1 ?", "UTC", dt.datetime(last - 2, 6, 1, tzinfo=UTC), 10)
    assert [t.year for t in got] == [last - 1, last]


def test_never_returning_expression_raises():
    expr = parse("0 0 12 0W * ?")  # Quartz accepts it, then loops forever in getNextValidTimeAfter
    assert any("0W" in w for w in expr.warnings)
    with pytest.raises(QuartzError, match="loops forever"):
        expr.next_fire_times(at("2026-01-01T00:00:00Z"), "UTC", 1)


def test_empty_field_is_accepted_but_cannot_be_scheduled():
    expr = parse("0 , 12 * * ?")
    assert any("selects no value" in w for w in expr.warnings)
    with pytest.raises(QuartzError, match="minutes"):
        expr.next_fire_times(at("2026-01-01T00:00:00Z"), "UTC", 1)


def test_next_fire_times_convenience_and_strictly_after():
    after = at("2026-01-04T12:00:00Z")  # itself a fire time: excluded
    got = next_fire_times("0 0 12 ? * SUN", tz="UTC", after=after, count=2)
    assert [iso(t) for t in got] == ["2026-01-11T12:00:00Z", "2026-01-18T12:00:00Z"]
    assert len(next_fire_times("0 0 12 ? * SUN")) == 5  # default: now, 5 times
    # milliseconds are dropped like Quartz does
    assert iso(next_fire_times("* * * * * ?", after=at("2026-01-01T00:00:00.700Z"), count=1)[0]) == \
        "2026-01-01T00:00:01Z"


def test_next_fire_times_argument_errors():
    expr = parse("0 0 12 * * ?")
    with pytest.raises(ValueError, match="timezone-aware"):
        expr.next_fire_times(dt.datetime(2026, 1, 1), "UTC", 1)
    with pytest.raises(QuartzError) as info:
        expr.next_fire_times(at("2026-01-01T00:00:00Z"), "Europe/Berln", 1)
    assert info.value.field == "timezone" and "Europe/Berlin" in info.value.message
    with pytest.raises(ValueError):
        expr.next_fire_times(at("2026-01-01T00:00:00Z"), "UTC", -1)
    assert expr.next_fire_times(at("2026-01-01T00:00:00Z"), "UTC", 0) == []


def test_java_only_zones_work_without_python_tzdata_for_them():
    # PST is Java's alias of America/Los_Angeles, SystemV/EST5EDT keeps the pre-2007 US rules
    got = next_fire_times("0 0 12 * * ?", "PST", at("2026-03-07T00:00:00Z"), 2)
    assert [iso(t) for t in got] == ["2026-03-07T20:00:00Z", "2026-03-08T19:00:00Z"]
    got = next_fire_times("0 0 12 * * ?", "SystemV/EST5EDT", at("2026-03-08T00:00:00Z"), 1)
    assert iso(got[0]) == "2026-03-08T17:00:00Z"  # still standard time: US rules of before 2007
    got = next_fire_times("0 0 12 * * ?", "GMT+05:30", at("2026-01-01T00:00:00Z"), 1)
    assert iso(got[0]) == "2026-01-01T06:30:00Z"


# --------------------------------------------------------------------------------------------------
# parse: decisions and error messages (no Java)
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    "* * * * * ?", "0 0 12 ? * 1", "0 0 12 ? * 6#3", "0 15 10 L * ?", "0 0 12 LW * ?", "0 0 12 L-3 * ?",
    "0 0 12 ? * 6L", "0 0 12 15W * ?", "0/15 * * * * ?", "*/5 * * * * ?", "5-50/10 * * * * ?",
    "0 0 12 ? * FRI-MON", "0 0 12 1 JAN-MAR ? 2030", "0 0 12 ? * mon-fri", "0 0 12 * * ? 2099",
    "0 0 12 ? * MONDAY",  # Quartz reads MON and ignores the rest
    "0 0 12 * * ? 2027 extra",  # fields after the 7th are ignored
])
def test_quartz_accepts(expr):
    assert isinstance(parse(expr), CronExpression)


@pytest.mark.parametrize("expr,field,words", [
    ("* * * * * *", "day-of-month", ["both be '*'", "'?'", "* * * * * ?"]),
    ("0 0 12 * * 1", "day-of-month", ["day-of-month must be '?'", "0 0 12 ? * 1"]),
    ("0 0 12 1 * 1", "day-of-month", ["cannot both be specified", "'?'"]),
    ("0 0 12 ? * ?", "day-of-week", ["both be '?'"]),
    ("0 12 * * *", None, ["Unix cron", "seconds first", "'0 0 12 * * ?'"]),
    ("30 8 * * 1-5", None, ["Unix cron", "'0 30 8 ? * 2-6'"]),
    ("0 0 12 * *", None, ["Unix cron", "'0 0 0 12 * ?'"]),
    ("0 0 12", None, ["only 3 fields", "seconds minutes hours"]),
    ("", None, ["empty"]),
    ("60 * * * * ?", "seconds", ["60", "0 and 59"]),
    ("0 0 24 * * ?", "hours", ["24", "0 and 23"]),
    ("0 0 12 32 * ?", "day-of-month", ["32"]),
    ("0 0 12 1 13 ?", "month", ["13", "JAN-DEC"]),
    ("0 0 12 ? * 0", "day-of-week", ["0", "1 = SUN"]),
    ("0 0 12 ? * 8", "day-of-week", ["8"]),
    ("0 0 12 ? * 6#6", "day-of-week", ["'#'", "1 to 5"]),
    ("0 0 12 ? * 6#1,2#2", "day-of-week", ["only one"]),
    ("0 0 12 L,15 * ?", "day-of-month", ["'L'", "list"]),
    ("0 0 12 ? * 6L,2", "day-of-week", ["'L'", "list"]),
    ("0 0 12 L-31 * ?", "day-of-month", ["at most 30"]),
    ("0 0 12 5L * ?", "day-of-month", ["'nL'", "day-of-week"]),
    ("0 0 12 ? * 2W", "day-of-week", ["'W'", "day-of-month"]),
    ("0 0 12 1#2 * ?", "day-of-month", ["'#'", "day-of-week"]),
    ("0 ? 12 * * ?", "minutes", ["'?'", "day-of-month or day-of-week"]),
    ("0 0 12 ? * FOO", "day-of-week", ["'FOO'", "day name"]),
    ("0 0 12 1 FOO ?", "month", ["'FOO'", "month name"]),
    ("0 0/60 * * * ?", "minutes", ["increment 60", "at most 59"]),
    ("0 0 1/ * * ?", "hours", ["'/'", "increment"]),
    ("0 0 12 ?X1 * 1", "day-of-month", ["'?'"]),
    ("0 0 0 1 1 ? 2035-2030", "year", ["backwards", "2030-2035"]),
    ("0 0 99999999999 * * ?", "hours", ["too large"]),
    ("0 0 12 1-40 * ?", "day-of-month", ["40"]),
    ("0 0 12 ? * MO", "day-of-week", ["'MO'"]),
    ("0 0 12 #3 * ?", "day-of-month", ["'#'"]),
])
def test_error_messages_name_the_problem_and_fix(expr, field, words):
    with pytest.raises(QuartzError) as info:
        parse(expr)
    err = info.value
    assert err.field == field, err.message
    assert isinstance(err, ValueError) and str(err) == err.message
    for word in words:
        assert word in err.message, err.message
    if field:
        assert field in err.message


def test_both_day_fields_star_message():
    with pytest.raises(QuartzError) as info:
        parse("0 0 12 * * *")
    assert info.value.message == (
        "day-of-month and day-of-week cannot both be '*': set one of them to '?' (e.g. '0 0 12 * * ?')"
    )


def test_non_string_expression():
    with pytest.raises(QuartzError, match="string"):
        parse(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("expr,fragment", [
    ("0 0 12 ? * MONDAY", "reads 'MONDAY' as 'MON'"),
    ("0 0 12 ? * L", "means Saturday"),
    ("0 0 12 * * ? 2027 extra", "ignores everything after the 7th field"),
    ("0 0 12 ? * 2,6#2", "only uses the smallest day"),
    ("*/0 * * * * ?", "as 1"),
    ("0 0 0 1 1 ? 1969", "never fires"),
    ("0 0 12 1-5X * ?", "ignores 'X'"),
])
def test_warnings_for_things_quartz_accepts_silently(expr, fragment):
    assert any(fragment in w for w in parse(expr).warnings), parse(expr).warnings


def test_no_warnings_for_ordinary_expressions():
    for expr in ("0 30 2 ? * MON-FRI", "0 0/15 * * * ?", "0 0 12 L * ?", "0 0 12 ? * 6#3", "* * * * * ?"):
        assert parse(expr).warnings == ()


def test_value_sets():
    expr = parse("0 0/20 9-11 ? JAN,JUL 2-6 2030-2032")
    assert expr.seconds == (0,) and expr.minutes == (0, 20, 40) and expr.hours == (9, 10, 11)
    assert expr.months == (1, 7) and expr.days_of_week == (2, 3, 4, 5, 6) and expr.years == (2030, 2031, 2032)
    assert expr.day_of_month_unspecified and not expr.day_of_week_unspecified
    assert parse("0 0 12 ? * FRI-MON").days_of_week == (1, 2, 6, 7)
    assert parse("0 0 12 ? * 6#3").nth_day_of_week == 3
    last = parse("0 0 12 L-2W * ?")
    assert last.last_day_of_month and last.nearest_weekday and last.last_day_offset == 2
    assert str(expr) == "0 0/20 9-11 ? JAN,JUL 2-6 2030-2032" and parse("* * * * * ?") == parse("* * * * * ?")


# --------------------------------------------------------------------------------------------------
# describe (no Java)
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("expr,text", [
    ("0 30 2 ? * MON-FRI", "At 02:30:00, Monday through Friday"),
    ("0 0 12 * * ?", "At 12:00:00, every day"),
    ("* * * * * ?", "Every second, every day"),
    ("0 * * * * ?", "Every minute, every day"),
    ("0 0 * * * ?", "At minute 0 of every hour, every day"),
    ("0 0/15 * * * ?", "Every 15 minutes, every day"),
    ("0 */15 9-17 ? * MON-FRI", "Every 15 minutes, between 09:00 and 17:59, Monday through Friday"),
    ("0 0 8,17 * * ?", "At 08:00:00 and 17:00:00, every day"),
    ("0 0 */2 * * ?", "At minute 0 past the hour, every 2 hours, every day"),
    ("*/10 * * * * ?", "Every 10 seconds, every day"),
    ("0 0 12 ? * 1", "At 12:00:00, only on Sunday"),
    ("0 0 12 ? * 2,4,6", "At 12:00:00, on Monday, Wednesday and Friday"),
    ("0 0 12 ? * FRI-MON", "At 12:00:00, Friday through Monday"),
    ("0 0 12 ? * 6#3", "At 12:00:00, on the third Friday of the month"),
    ("0 0 12 ? * 6L", "At 12:00:00, on the last Friday of the month"),
    ("0 0 12 ? * L", "At 12:00:00, only on Saturday"),
    ("0 0 12 ? * MONDAY", "At 12:00:00, only on Monday"),
    ("0 15 10 L * ?", "At 10:15:00, on the last day of the month"),
    ("0 0 12 LW * ?", "At 12:00:00, on the last weekday (Monday to Friday) of the month"),
    ("0 0 12 L-3 * ?", "At 12:00:00, 3 days before the last day of the month"),
    ("0 0 12 15W * ?", "At 12:00:00, on the weekday (Monday to Friday) nearest to day 15 of the month"),
    ("0 0 12 1/5 * ?", "At 12:00:00, on days 1, 6, 11, 16, 21, 26 and 31 of the month"),
    ("0 0 12 1,15 * ?", "At 12:00:00, on days 1 and 15 of the month"),
    ("0 0 0 29 2 ? *", "At 00:00:00, on February 29"),
    ("0 0 0 30 2 ?", "At 00:00:00, on February 30 (a date that does not exist: never fires)"),
    ("0 0 0 1 */3 ?", "At 00:00:00, on day 1 of the month, every 3 months"),
    ("0 0 12 1 JAN-MAR ?", "At 12:00:00, on day 1 of the month, only in January through March"),
    ("0 0 0 1 1 ? 2030", "At 00:00:00, on January 1, in 2030 only"),
    ("0 15 10 ? * 6L 2027-2029", "At 10:15:00, on the last Friday of the month, in 2027 through 2029"),
    ("0 0 0 1 1 ? 1969", "At 00:00:00, on January 1, in no year Quartz will reach (never fires)"),
])
def test_describe(expr, text):
    assert describe(expr) == text
    assert parse(expr).describe() == text


def test_describe_rejects_invalid():
    with pytest.raises(QuartzError):
        describe("* * * * * *")


# --------------------------------------------------------------------------------------------------
# check_timezone (no Java)
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "PST", "EST",
                                "SystemV/EST5EDT", "Etc/GMT+5", "GMT+5", "GMT+05:30", "GMT-0800", "US/Pacific"])
def test_check_timezone_accepts_java_ids(tz):
    assert check_timezone(tz) is None


@pytest.mark.parametrize("tz,suggestion", [
    ("Europe/Berln", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"), ("America/New York", "America/New_York"),
    ("Berlin", "Europe/Berlin"), ("UTC+05:30", "GMT+05:30"), ("Asia/Kolkatta", "Asia/Kolkata"), ("utc", "UTC"),
    ("Z", "UTC"),
])
def test_check_timezone_suggests(tz, suggestion):
    assert check_timezone(tz) == f"unknown timezone '{tz}'; did you mean '{suggestion}'?"


def test_check_timezone_without_suggestion_and_bad_types():
    msg = check_timezone("Mars/Olympus_Mons")
    assert msg and msg.startswith("unknown timezone 'Mars/Olympus_Mons'") and "Europe/Berlin" in msg
    assert check_timezone("") and check_timezone(None)  # type: ignore[arg-type]
    assert check_timezone("GMT+24") and check_timezone("America/Coyhaique")  # not in Java 17's data


# --------------------------------------------------------------------------------------------------
# performance and import cost
# --------------------------------------------------------------------------------------------------
# (parse and next-fire-time speed is measured by benchmarks/bench_quartz.py, not asserted by a timed test)


def test_import_is_cheap():
    import subprocess

    code = (
        "import sys; import flowdef.quartz as q; q.parse('0 30 2 ? * MON-FRI'); "
        "loaded = [m for m in ('flowdef.quartz._java_timezones', 'flowdef.quartz._zones', 'flowdef.quartz._engine') "
        "if m in sys.modules]; assert not loaded, loaded"
    )
    # importing and parsing (the validate path) must not load the time-zone table or the engine
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=HERE.parent)
    assert proc.returncode == 0, proc.stderr
