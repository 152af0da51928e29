"""The friendly Cron constructors emit Quartz that fires when their names say (checked with the Quartz engine)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from flowdef import Cron
from flowdef.quartz import next_fire_times

AFTER = datetime(2026, 11, 26, tzinfo=timezone.utc)  # a Thursday


def fires(cron: Cron, count: int = 3) -> list[str]:
    return [t.strftime("%a %Y-%m-%d %H:%M:%S") for t in next_fire_times(cron.expression, tz=cron.timezone,
                                                                      after=AFTER, count=count)]


def test_daily():
    cron = Cron.daily(at="02:30", timezone="UTC")
    assert cron.expression == "0 30 2 * * ?"
    assert fires(cron) == ["Thu 2026-11-26 02:30:00", "Fri 2026-11-27 02:30:00", "Sat 2026-11-28 02:30:00"]


def test_daily_in_a_time_zone_is_local_time():
    cron = Cron.daily(at="06:00", timezone="America/Sao_Paulo")  # UTC-3, no DST since 2019
    assert fires(cron, 1) == ["Thu 2026-11-26 09:00:00"]


def test_weekly_uses_quartz_day_names_and_numbers():
    assert Cron.weekly(on="SUN", at="12:00").expression == "0 0 12 ? * SUN"
    assert Cron.weekly(on=1, at="12:00").expression == "0 0 12 ? * SUN"  # Quartz: 1 = Sunday
    assert fires(Cron.weekly(on=("monday", "THU"), at="08:15:30"), 3) == [
        "Thu 2026-11-26 08:15:30", "Mon 2026-11-30 08:15:30", "Thu 2026-12-03 08:15:30"]


def test_weekdays_hourly_monthly():
    assert fires(Cron.weekdays(at="07:00"), 3) == [
        "Thu 2026-11-26 07:00:00", "Fri 2026-11-27 07:00:00", "Mon 2026-11-30 07:00:00"]
    assert fires(Cron.hourly(minute=45), 2) == ["Thu 2026-11-26 00:45:00", "Thu 2026-11-26 01:45:00"]
    assert fires(Cron.monthly(day="L", at="23:00"), 3) == [
        "Mon 2026-11-30 23:00:00", "Thu 2026-12-31 23:00:00", "Sun 2027-01-31 23:00:00"]
    assert fires(Cron.monthly(day=31), 2) == ["Thu 2026-12-31 00:00:00", "Sun 2027-01-31 00:00:00"]


@pytest.mark.parametrize("call", [
    lambda: Cron.daily(at="25:00"),
    lambda: Cron.daily(at="7am"),
    lambda: Cron.weekly(on="someday"),
    lambda: Cron.weekly(on=8),
    lambda: Cron.monthly(day=32),
    lambda: Cron.hourly(minute=60),
])
def test_bad_arguments_say_what_is_wrong(call):
    from flowdef import DefinitionError

    with pytest.raises(DefinitionError, match=r"Cron\.\w+\(\w+=\.\.\.\)"):
        call()


def test_location_is_the_users_line():
    cron = Cron.daily()
    assert cron.location is not None and cron.location.file == __file__


def _compiled(trigger):
    from pathlib import Path

    from flowdef import Job
    from flowdef.compile.compiler import payload
    from flowdef.load.config import ProjectConfig, Target
    from flowdef.load.loader import LoadedProject
    from flowdef.validate import validate_project

    job = Job("always_on", trigger=trigger)
    job.notebook("work", "/Workspace/Shared/nb")
    target = Target("prod", mode="production", root_path="/Workspace/Shared/x")
    config = ProjectConfig(root=Path.cwd(), project="p", targets=(target,))
    model = job.to_model("m")
    return payload(model, target, config), validate_project(LoadedProject(config, (model,), ()), target)


def test_continuous_with_a_maintenance_window_round_trips():
    from flowdef import Continuous, MaintenanceWindow

    body, diags = _compiled(Continuous(task_retry_mode="ON_FAILURE",
                                       maintenance_window=MaintenanceWindow(3, "sun", timezone="Europe/Berlin")))
    assert diags == []
    assert body["continuous"] == {
        "pause_status": "UNPAUSED", "task_retry_mode": "ON_FAILURE",
        "maintenance_window": {"start_hour": 3, "day_of_week": "SUNDAY", "timezone_id": "Europe/Berlin"},
    }
    jobs = pytest.importorskip("databricks.sdk.service.jobs")
    assert jobs.JobSettings.from_dict(body).as_dict() == body
    from flowdef.jobsapi import schema
    if schema.load() is not None:
        problems, unchecked = schema.check_payload(body)
        assert problems == [] and unchecked == ["continuous.maintenance_window"]


def test_bad_maintenance_window_is_reported():
    from flowdef import Continuous, MaintenanceWindow

    _, diags = _compiled(Continuous(maintenance_window=MaintenanceWindow(24, "someday", timezone="Mars/Olympus")))
    assert sorted((d.code, d.path) for d in diags) == [
        ("FD303", "continuous.maintenance_window.timezone_id"),
        ("FD304", "continuous.maintenance_window.day_of_week"),
        ("FD304", "continuous.maintenance_window.start_hour"),
    ]
    assert all(d.location is not None and d.location.file == __file__ for d in diags)
