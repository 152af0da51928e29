"""``flowdef cron``: fire times on stdout, description and warnings on stderr, exit 0 / 1."""

from __future__ import annotations

import argparse
import datetime as dt

import pytest

from flowdef.cli import cron


def run(capsys, expr, tz="UTC", after="2026-11-26T10:00:00Z", count=5):
    code = cron.run(argparse.Namespace(expr=expr, tz=tz, after=after, count=count))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def test_prints_utc_instants_and_description(capsys):
    code, out, err = run(capsys, "0 0 12 ? * 1")
    assert code == 0
    assert out == ["2026-11-29T12:00:00Z", "2026-12-06T12:00:00Z", "2026-12-13T12:00:00Z",
                   "2026-12-20T12:00:00Z", "2026-12-27T12:00:00Z"]
    assert err == ["At 12:00:00, only on Sunday (time zone UTC)"]


def test_time_zone_and_dst_gap(capsys):
    code, out, err = run(capsys, "0 30 2 * * ?", tz="America/New_York", after="2026-03-07T00:00:00Z", count=3)
    assert code == 0
    # 2026-03-08 has no 02:30 in New York: Quartz skips that day
    assert out == ["2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"]
    assert "America/New_York" in err[0]


@pytest.mark.parametrize("after", ["2026-11-26T11:00:00+01:00", "2026-11-26T10:00:00", "2026-11-26T10:00:00z"])
def test_after_with_offset_or_naive_utc(capsys, after):
    code, out, _ = run(capsys, "0 0 * * * ?", after=after, count=2)
    assert code == 0 and out == ["2026-11-26T11:00:00Z", "2026-11-26T12:00:00Z"]


def test_after_as_a_date(capsys):
    code, out, _ = run(capsys, "0 0 0 * * ?", after="2026-11-26", count=1)
    assert code == 0 and out == ["2026-11-27T00:00:00Z"]


def test_default_after_is_now(capsys):
    code, out, _ = run(capsys, "* * * * * ?", after=None, count=1)
    assert code == 0
    fire = dt.datetime.fromisoformat(out[0].replace("Z", "+00:00"))
    assert abs((fire - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 5


def test_seven_fields_and_end_of_schedule(capsys):
    code, out, err = run(capsys, "0 0 0 1 1 ? 2027-2028", count=5)
    assert code == 0
    assert out == ["2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"]
    assert any(line.startswith("note: no fire time after 2028-01-01T00:00:00Z") for line in err)


def test_warnings_for_silently_accepted_quirks(capsys):
    code, out, err = run(capsys, "0 0 12 ? * MONDAY", count=1)
    assert code == 0 and out == ["2026-11-30T12:00:00Z"]
    assert any(line.startswith("warning:") and "MONDAY" in line for line in err)


def test_count_zero_prints_nothing(capsys):
    code, out, _ = run(capsys, "0 0 12 * * ?", count=0)
    assert code == 0 and out == []


@pytest.mark.parametrize("expr,fragment", [
    ("* * * * * *", "cannot both be '*'"),
    ("0 12 * * *", "Unix cron"),
    ("0 0 12 ? * 6#6", "1 to 5"),
    ("", "empty"),
])
def test_invalid_expression(capsys, expr, fragment):
    code, out, err = run(capsys, expr)
    assert code == 1 and out == []
    assert len(err) == 1 and err[0].startswith("error: ") and fragment in err[0]


def test_invalid_timezone(capsys):
    code, out, err = run(capsys, "0 0 12 * * ?", tz="Europe/Berln")
    assert code == 1 and out == []
    assert err == ["error: unknown timezone 'Europe/Berln'; did you mean 'Europe/Berlin'?"]


@pytest.mark.parametrize("after", ["tomorrow", "2026-13-01T00:00:00Z", "1969-01-01T00:00:00Z"])
def test_invalid_after(capsys, after):
    code, out, err = run(capsys, "0 0 12 * * ?", after=after)
    assert code == 1 and out == [] and err[0].startswith("error: --after")


def test_negative_count(capsys):
    code, _, err = run(capsys, "0 0 12 * * ?", count=-1)
    assert code == 1 and "--count" in err[0]


def test_schedule_quartz_cannot_compute(capsys):
    code, out, err = run(capsys, "0 0 12 0W * ?")
    assert code == 1 and out == [] and "loops forever" in err[0]


def test_through_the_cli(capsys):
    cli = pytest.importorskip("flowdef.cli")
    code = cli.main(["cron", "0 30 2 ? * MON-FRI", "--tz", "Europe/Berlin",
                     "--after", "2026-11-26T10:00:00Z", "--count", "3"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.splitlines() == ["2026-11-27T01:30:00Z", "2026-11-30T01:30:00Z", "2026-12-01T01:30:00Z"]
    assert err.splitlines()[0] == "At 02:30:00, Monday through Friday (time zone Europe/Berlin)"
    assert cli.main(["cron", "0 0 12 * * *"]) == 1
    assert capsys.readouterr().err.startswith("error: ")
