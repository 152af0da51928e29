"""``flowdef explain JOB``: the trigger in words, with next runs computed by the Quartz engine."""

from __future__ import annotations

from flowdef.cli import main
from tests.conftest import ROOT


def test_explain_schedule_lists_next_runs_in_utc_and_local_time(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["explain", "smart_claims_bronze_to_silver", "--after", "2026-11-26T00:00:00Z", "--count", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[dev] smart_claims_bronze_to_silver (smart_claims_bronze_to_silver, target dev)"
    assert out[1].startswith("Schedule: ") and "(America/Sao_Paulo); Quartz expression '0 0 6 * * ?'." in out[1]
    assert "06:00" in out[1]  # the English description names the time
    assert out[2] == "Next 3 runs after 2026-11-26T00:00:00Z:"
    assert out[3:6] == [
        "  2026-11-26T09:00:00Z  (Thu 2026-11-26 06:00:00 -03)",
        "  2026-11-27T09:00:00Z  (Fri 2026-11-27 06:00:00 -03)",
        "  2026-11-28T09:00:00Z  (Sat 2026-11-28 06:00:00 -03)",
    ]
    assert out[6] == "The trigger is deployed PAUSED (target 'dev' pauses every trigger)."


def test_explain_file_arrival_resolves_the_target_catalog(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["explain", "smart_claims_ingestion", "--target", "prod"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == ("File arrival: runs when new files land under /Volumes/smart_claims_prod/00_landing/sql_server/, "
                      "at most once every 5 min, after 2 min without new files.")
    assert len(out) == 2  # prod does not pause


def test_explain_usage_errors(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["explain", "nope"]) == 2
    assert main(["explain", "smart_claims_bronze_to_silver", "--after", "yesterday"]) == 2
    assert "--after" in capsys.readouterr().err
