"""The CLI is a function: every command tested through ``main(argv)``."""

from __future__ import annotations

import json

import pytest

from flowdef.cli import main
from tests.conftest import FIXTURES, ROOT

CLI = FIXTURES / "cli"


def test_validate_examples_clean(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: 2 jobs, 7 tasks, target dev: 0 errors, 0 warnings")


def test_validate_reports_every_problem_with_file_and_line(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["validate", str(CLI), "--format", "json"]) == 1
    found = {(d["code"], d["file"], d["line"]) for d in json.loads(capsys.readouterr().out)}
    multi, raises = "tests/fixtures/cli/multi_errors.py", "tests/fixtures/cli/raises.py"
    assert found == {
        ("FD301", multi, 3),  # Cron and Continuous together
        ("FD401", multi, 5),  # missing SQL template
        ("FD101", multi, 6),  # b -> c -> b
        ("FD202", multi, 6),  # job.params.catlog
        ("FD104", multi, 8),  # second "a"
        ("FD107", multi, 8),  # run_if "all_done"
        ("FD001", raises, 6),  # module raising at import: reported at the raising line
    }


def test_a_broken_module_does_not_hide_the_others(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["list", str(CLI), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert [job["key"] for job in json.loads(captured.out)] == ["fine", "multi_errors"]
    assert "raises.py:6:1: error[FD001]" in captured.err


def test_text_format_is_compiler_like(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["validate", str(CLI / "multi_errors.py")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "tests/fixtures/cli/multi_errors.py:6:1: error[FD101]: dependency cycle: b -> c -> b;" in out[2]
    assert "did you mean 'catalog'?" in out[3]


def test_github_annotations(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["validate", str(CLI / "raises.py"), "--format", "github"]) == 1
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("::error file=tests/fixtures/cli/raises.py,line=6,col=1,title=FD001 import-failed::")


def test_usage_errors_exit_2(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["validate", "--target", "nope"]) == 2
    assert "unknown target 'nope'" in capsys.readouterr().err
    assert main(["validate", "--format", "xml"]) == 2
    assert main([]) == 2
    assert main(["graph", "no_such_job"]) == 2
    assert "no job 'no_such_job'" in capsys.readouterr().err


def test_compile_check_detects_drift(example_project, capsys):
    assert main(["compile"]) == 0
    assert main(["compile", "--check"]) == 0
    payload = example_project / "build" / "smart_claims_ingestion.json"
    payload.write_text(payload.read_text().replace("01_bronze", "01_bronz"))
    (example_project / "build" / "stale.json").write_text("{}")
    capsys.readouterr()
    assert main(["compile", "--check"]) == 1
    out = capsys.readouterr().out
    assert "smart_claims_ingestion.json (on disk)" in out and "stale.json: no longer produced" in out


def test_compile_refuses_invalid_project(example_project, capsys):
    (example_project / "pipelines" / "broken.py").write_text(
        "from flowdef import Job\njob = Job('broken')\njob.notebook('x', '/nb', depends_on=['y'])\n"
    )
    assert main(["compile"]) == 1
    captured = capsys.readouterr()
    assert "pipelines/broken.py:3:1: error[FD103]" in captured.out
    assert not (example_project / "build").exists()


def test_unknown_sql_marker_and_template_variable(example_project, capsys):
    tpl = example_project / "sql_templates" / "silver" / "join_tables_sample.sql"
    tpl.write_text(tpl.read_text() + "-- {{ undefined_thing }}\nSELECT :not_a_param;\n")
    assert main(["validate", "--format", "json"]) == 1
    found = {(d["code"], d["file"], d["line"]) for d in json.loads(capsys.readouterr().out)}
    assert ("FD402", "sql_templates/silver/join_tables_sample.sql", 6) in found
    tpl.write_text(tpl.read_text().replace("-- {{ undefined_thing }}\n", ""))
    assert main(["validate", "--format", "json"]) == 1
    found = {(d["code"], d["file"], d["line"]) for d in json.loads(capsys.readouterr().out)}
    assert found == {("FD404", "sql_templates/silver/join_tables_sample.sql", 6)}


@pytest.mark.parametrize("fmt,expected", [
    ("mermaid", ['flowchart TD', 't1["join_tables_create<br/><small>sql</small>"]', "t0 --> t1", "t1 --> t3",
                 "t2 --> t3", 'AT_LEAST_ONE_SUCCESS']),
    ("dot", ['digraph "smart_claims_bronze_to_silver"', '"join_tables_create" -> "join_tables_sample";']),
    ("text", ["join_tables_sample [sql] <- join_tables_create, join_tables_metrics (run_if AT_LEAST_ONE_SUCCESS)"]),
])
def test_graph_formats(fmt, expected, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["graph", "smart_claims_bronze_to_silver", "--format", fmt]) == 0
    out = capsys.readouterr().out
    for piece in expected:
        assert piece in out


def test_list(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "smart_claims_ingestion  ('[dev] smart_claims_ingestion', FileArrival, 3 tasks" in out
    assert "  - deduplicate_claims [function]" in out


def test_config_error_names_file_and_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "flowdef.toml").write_text('project = "x"\n[targets.dev]\nmode = "devel"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 1
    err = capsys.readouterr().err
    assert "flowdef.toml:3:1: error[FD004]: target 'dev': mode must be 'development' or 'production'" in err


def test_sql_template_of_a_for_each_task_is_checked_too(tmp_path, capsys, monkeypatch):
    (tmp_path / "flowdef.toml").write_text('project = "nested"\n[targets.dev]\nwarehouse_id = "w"\n')
    (tmp_path / "sql_templates").mkdir()
    (tmp_path / "sql_templates" / "load.sql").write_text("SELECT :region, {{ nope }};\n")
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "n.py").write_text(
        "from flowdef import INPUT, Job\n\njob = Job('nested')\n"
        "job.for_each('per_region', inputs=['eu']).sql('load_region', 'load.sql', params={'region': INPUT})\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["compile", "--format", "json"]) == 1  # no traceback from rendering: a diagnostic first
    found = {(d["code"], d["file"], d["line"]) for d in json.loads(capsys.readouterr().out)}
    assert found == {("FD402", "sql_templates/load.sql", 1)}


def test_unwritable_output_and_bad_toml_are_one_line_errors(tmp_path, capsys, monkeypatch):
    (tmp_path / "flowdef.toml").write_text('project = "x"\n[targets.dev\n')
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 1
    assert "flowdef.toml:2:1: error[FD004]: invalid TOML" in capsys.readouterr().err
    (tmp_path / "flowdef.toml").write_text('project = "x"\n')
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "j.py").write_text("from flowdef import Job\njob = Job('j')\njob.notebook('a', '/nb')\n")
    (tmp_path / "taken").write_text("a file, not a folder")
    assert main(["compile", "--out", "taken"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write the compiled files to taken/") and "Traceback" not in err


def test_render_time_template_error_points_at_its_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "flowdef.toml").write_text('project = "t"\n[targets.dev]\nwarehouse_id = "w"\n')
    (tmp_path / "sql_templates").mkdir()
    (tmp_path / "sql_templates" / "a.sql").write_text("-- line 1\nSELECT 1;\nSELECT '{{ params.nope }}';\n")
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "p.py").write_text(
        "from flowdef import Job\njob = Job('t', params={'x': '1'})\njob.sql('a', 'a.sql')\n")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--format", "json"]) == 1
    (found,) = json.loads(capsys.readouterr().out)
    assert (found["code"], found["file"], found["line"]) == ("FD402", "sql_templates/a.sql", 3)
    assert "has no attribute 'nope'" in found["message"]


def test_a_command_that_skips_teardown_still_flushes_and_runs_exit_handlers(example_project):
    """validate/compile end with os._exit (no teardown of a monorepo's objects): everything printed arrives, even
    through a pipe, the exit code is kept, and exit handlers a user's module registered still run."""
    import os
    import subprocess
    import sys

    marker = example_project / "atexit-ran"
    (example_project / "pipelines" / "registers_atexit.py").write_text(
        "import atexit\nfrom flowdef import Job\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write('yes'))\n"
        "job = Job('with_exit_handler')\njob.notebook('t', '/Workspace/x', params={'p': '{{job.parameters.nope}}'})\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "flowdef", "validate", "--format", "json"], cwd=example_project,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    found = json.loads(done.stdout)
    assert [d["code"] for d in found] == ["FD202"]
    assert marker.read_text() == "yes"
    marker.unlink()
    done = subprocess.run([sys.executable, "-m", "flowdef", "compile"], cwd=example_project, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "nothing written" in done.stderr and marker.exists()
