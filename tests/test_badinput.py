"""Bad input at the boundary (issue 8): wrong Python types, the config file, jobs that used to be dropped, misuse
that raised raw Python, semantic traps and SQL marker false positives.  The fixture corpus (test_corpus.py) proves
each class through the CLI; these tests pin the mechanisms and run a property test over every public argument."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flowdef
from flowdef import (
    Autoscale, ClusterSpec, Continuous, Cron, DefinitionError, Environment, ExistingCluster, FileArrival, GitSource,
    Health, HealthRule, Job, JobCluster, JobCompletion, Library, MaintenanceWindow, Notifications, Periodic,
    Permission, PowerBiModel, PowerBiTable, Retry, RunAs, Subscriber, TableUpdate, Webhook,
)
from flowdef._check import collecting
from flowdef.cli import main
from flowdef.compile.sqlmarkers import sql_markers
from flowdef.load.config import config_line, load_config
from flowdef.load.loader import load
from flowdef.load.tomlpos import positions
from tests.conftest import FIXTURES

GOOD = FIXTURES / "good"


@pytest.fixture(autouse=True)
def _restore_cwd(monkeypatch):
    """``main(["-C", dir, ...])`` changes the working directory; put it back for the tests that follow."""
    monkeypatch.chdir(Path.cwd())


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def project(tmp_path: Path, files: dict[str, str], config: str = 'project = "t"\n[targets.dev]\n'
            'warehouse_id = "w"\n') -> Path:
    (tmp_path / "flowdef.toml").write_text(config)
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


# ----------------------------------------------------------------------------------------------------------------
# 1. one check at the boundary: collected while loading, raised outside


def test_outside_a_loader_a_wrong_type_raises_at_the_users_line():
    with pytest.raises(DefinitionError) as caught:
        Retry("3")
    assert "Retry(max_retries=...) must be an int, got str '3'" in str(caught.value)
    assert caught.value.code == "FD601"
    assert caught.value.location.file == __file__


def test_inside_a_collector_problems_are_collected_and_the_job_still_loads():
    with collecting() as collected:
        job = Job("j", max_concurrent_runs="1", queue="yes")
        job.notebook("a", "/x", disabled="no", timeout="60")
    codes = [(d.code, d.location.line) for d in collected.diagnostics]
    assert [c for c, _ in codes] == ["FD601"] * 4
    spec = job.to_model()
    # no coercion: the wrong values are left out, never converted (a truthy "no" does not disable the task)
    assert spec.max_concurrent_runs is None and spec.queue is None
    assert spec.tasks[0].disabled is False and spec.tasks[0].timeout_seconds is None
    assert [j for j, _ in collected.jobs] == [job]


def test_a_wrong_type_is_never_compiled(tmp_path, capsys):
    root = project(tmp_path, {"pipelines/p.py": """
        from flowdef import Job
        job = Job("j")
        job.notebook("a", "/x", disabled="no")
    """})
    code, out, err = run(["-C", str(root), "compile", "--out", str(tmp_path / "build")], capsys)
    assert code == 1
    assert "p.py:4:1: error[FD601]: task 'a': disabled= must be True or False, got str 'no'" in out + err
    assert not (tmp_path / "build" / "j.json").exists()


# Every public constructor and DSL call, with the arguments a user may get wrong, and a valid value for each.
_VALID_JOB = Job  # noqa: E305 - alias for the table below


def _calls():
    """(what, build(kwargs), valid keyword arguments): each call is made with one argument replaced."""
    def task(method, *args, **base):
        def build(**kw):
            job = Job("j")
            return getattr(job, method)(*args, **{**base, **kw})
        return build

    def fn_task(**kw):
        job = Job("j", compute=Environment("e"))

        def f(ctx):
            return None
        return job.task(**kw)(f)

    shared = dict(run_if="ALL_DONE", retry=1, timeout=60, description="d", disabled=False, values=["v"],
                  notifications=Notifications(on_failure=["a@b.c"]), health=Health.over(run_duration_seconds=5),
                  extra={"x": 1})
    return [
        ("Job", lambda **kw: Job(kw.pop("name", "j"), **kw), dict(
            name="j", key="k", params={"a": "b"}, tags={"t": "v"}, description="d", trigger=Cron("0 0 0 * * ?"),
            compute=Environment("e"), environments=[Environment("e")], max_concurrent_runs=1, timeout=5,
            queue=True, notifications=Notifications(), health=Health(), git=GitSource.github("u", branch="m"),
            run_as=RunAs.user("u"), permissions=[Permission.user("u", "CAN_VIEW")], edit_mode="UI_LOCKED",
            extra={"a": 1})),
        ("job.notebook", task("notebook", "k", "/p"), dict(shared, compute=Environment("e"), libraries=[])),
        ("job.task", fn_task, dict(shared, key="k", params={"a": "b"}, compute=Environment("e"))),
        ("job.notebook/own", lambda **kw: Job("j").notebook(kw.pop("key", "k"), kw.pop("path", "/p"), **kw),
         dict(key="k", path="/p", params={"a": "b"}, warehouse="w")),
        ("job.python_file", lambda **kw: Job("j").python_file(kw.pop("key", "k"), kw.pop("path", "/p.py"), **kw),
         dict(key="k", path="/p.py", params=["--a", "b"], compute=Environment("e"))),
        ("job.python_wheel", lambda **kw: Job("j").python_wheel("k", kw.pop("package", "pkg"),
                                                                 kw.pop("entry_point", "main"), **kw),
         dict(package="pkg", entry_point="main", params={"a": "b"}, compute=Environment("e"))),
        ("job.spark_jar", lambda **kw: Job("j").spark_jar("k", kw.pop("main_class", "a.B"), **kw),
         dict(main_class="a.B", params=["x"], compute=Environment("e"))),
        ("job.sql", lambda **kw: Job("j").sql("k", kw.pop("template", "t.sql"), **kw),
         dict(template="t.sql", params={"a": "b"}, vars={"v": 1}, warehouse="w")),
        ("job.sql_query", lambda **kw: Job("j").sql_query("k", kw.pop("query_id", "q"), **kw),
         dict(query_id="q", params={"a": "b"}, warehouse="w")),
        ("job.dbt", lambda **kw: Job("j", compute=Environment("e")).dbt("k", kw.pop("commands", ["dbt run"]), **kw),
         dict(commands=["dbt run"], project_directory="d", warehouse="w", catalog="c", schema="s")),
        ("job.pipeline", lambda **kw: Job("j").pipeline("k", kw.pop("pipeline_id", "p"), **kw),
         dict(pipeline_id="p", full_refresh=True)),
        ("job.run_job", lambda **kw: Job("j").run_job("k", kw.pop("job", 1), **kw), dict(job=1, params={"a": "b"})),
        ("job.dashboard", lambda **kw: Job("j").dashboard("k", kw.pop("dashboard_id", "d"), **kw),
         dict(dashboard_id="d", warehouse="w", subscribers=["a@b.c"], custom_subject="s", paused=False)),
        ("job.alert", lambda **kw: Job("j").alert("k", kw.pop("alert_id", "a"), **kw),
         dict(alert_id="a", warehouse="w", subscribers=["a@b.c"])),
        ("job.clean_room_notebook", lambda **kw: Job("j").clean_room_notebook(
            "k", kw.pop("clean_room", "r"), kw.pop("notebook", "n"), **kw),
         dict(clean_room="r", notebook="n", params={"a": "b"}, etag="e")),
        ("job.raw_task", lambda **kw: Job("j").raw_task("k", kw.pop("fields", {"notebook_task": {"notebook_path": "/x"}}),
                                                        **kw), dict(fields={"notebook_task": {"notebook_path": "/x"}})),
        ("job.condition", lambda **kw: Job("j").condition("c", kw.get("left", "1"), kw.get("op", "=="),
                                                            kw.get("right", "2")), dict(left="1", op="==", right="2")),
        ("job.for_each", lambda **kw: Job("j").for_each("f", **{"inputs": [1], **kw}),
         dict(inputs=[1], concurrency=2, timeout=5, description="d", disabled=False)),
        ("Retry", lambda **kw: Retry(**kw), dict(max_retries=1, interval=5, on_timeout=True)),
        ("Cron", lambda **kw: Cron(kw.pop("expression", "0 0 0 * * ?"), **kw),
         dict(expression="0 0 0 * * ?", timezone="UTC", paused=False)),
        ("Cron.daily", lambda **kw: Cron.daily(**kw), dict(at="01:00", timezone="UTC", paused=True)),
        ("Cron.hourly", lambda **kw: Cron.hourly(**kw), dict(minute=5, timezone="UTC")),
        ("Cron.weekly", lambda **kw: Cron.weekly(**kw), dict(on="MON", at="01:00", timezone="UTC")),
        ("Cron.monthly", lambda **kw: Cron.monthly(**kw), dict(day=2, at="01:00", timezone="UTC")),
        ("FileArrival", lambda **kw: FileArrival(kw.pop("url", "/Volumes/a/b/c/"), **kw),
         dict(url="/Volumes/a/b/c/", min_time_between_triggers=60, wait_after_last_change=60, paused=False)),
        ("TableUpdate", lambda **kw: TableUpdate(kw.pop("tables", ["a.b.c"]), **kw),
         dict(tables=["a.b.c"], condition="ANY_UPDATED", min_time_between_triggers=60, paused=False)),
        ("Periodic", lambda **kw: Periodic(kw.pop("interval", 1), **kw), dict(interval=1, unit="HOURS", paused=False)),
        ("Continuous", lambda **kw: Continuous(**kw),
         dict(paused=False, task_retry_mode="NEVER", maintenance_window=MaintenanceWindow(1, "SUN"))),
        ("MaintenanceWindow", lambda **kw: MaintenanceWindow(kw.pop("start_hour", 1), kw.pop("day_of_week", "SUN"),
                                                             **kw), dict(start_hour=1, day_of_week="SUN",
                                                                         timezone="UTC")),
        ("JobCompletion", lambda **kw: JobCompletion(kw.pop("jobs", [1]), **kw),
         dict(jobs=[1], workspace_id="1", if_status="SUCCEEDED", paused=False)),
        ("Environment", lambda **kw: Environment(kw.pop("key", "e"), **kw),
         dict(key="e", version="3", dependencies=["x"], java_dependencies=["y"])),
        ("ClusterSpec", lambda **kw: ClusterSpec(kw.pop("spark_version", "15.4.x"), **kw),
         dict(spark_version="15.4.x", node_type_id="n", num_workers=1, autoscale=Autoscale(1, 2), policy_id="p",
              spark_conf={"a": "b"}, custom_tags={"a": "b"}, is_single_node=False, init_scripts=["/x.sh"])),
        ("Autoscale", lambda **kw: Autoscale(kw.get("min_workers", 1), kw.get("max_workers", 2)),
         dict(min_workers=1, max_workers=2)),
        ("JobCluster", lambda **kw: JobCluster(kw.get("key", "c"), kw.get("spec", ClusterSpec("15.4.x"))),
         dict(key="c", spec=ClusterSpec("15.4.x"))),
        ("ExistingCluster", lambda **kw: ExistingCluster(kw.get("cluster_id", "c")), dict(cluster_id="c")),
        ("Library", lambda **kw: Library(kw.pop("kind", "pypi"), kw.pop("value", "x"), **kw),
         dict(kind="pypi", value="x", repo="r", exclusions=["e"])),
        ("Notifications", lambda **kw: Notifications(**kw),
         dict(on_start=["a@b.c"], on_failure=[Webhook("w")], no_alert_for_skipped_runs=True)),
        ("Webhook", lambda **kw: Webhook(kw.get("id", "w")), dict(id="w")),
        ("HealthRule", lambda **kw: HealthRule(kw.get("metric", "RUN_DURATION_SECONDS"), kw.get("value", 1)),
         dict(metric="RUN_DURATION_SECONDS", value=1)),
        ("Health.over", lambda **kw: Health.over(**kw), dict(run_duration_seconds=5)),
        ("GitSource", lambda **kw: GitSource(kw.pop("url", "u"), kw.pop("provider", "gitHub"), **kw),
         dict(url="u", provider="gitHub", branch="b", sparse_checkout=["x"])),
        ("RunAs", lambda **kw: RunAs(**kw), dict(user_name="u")),
        ("Permission", lambda **kw: Permission(kw.pop("level", "CAN_VIEW"), **kw),
         dict(level="CAN_VIEW", group_name="g")),
    ]


CALLS = _calls()
WRONG = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(),
                                                                              max_size=2),
    st.just(object()), st.just(b"bytes"), st.just({1, 2}),
)


def _in_a_job(value):
    """Put what a call built where a user would: every value ends up in a job that is validated and compiled."""
    from flowdef.dsl.job import TaskHandle

    cluster = ClusterSpec("15.4.x-scala2.12", node_type_id="n", num_workers=1)
    if isinstance(value, Job):
        job = value
    elif isinstance(value, TaskHandle):
        job = value.job
    elif isinstance(value, (Cron, FileArrival, TableUpdate, Periodic, Continuous, JobCompletion)):
        job = Job("j", trigger=value)
    elif isinstance(value, MaintenanceWindow):
        job = Job("j", trigger=Continuous(maintenance_window=value))
    elif isinstance(value, (Environment, ClusterSpec, JobCluster, ExistingCluster)):
        job = Job("j", compute=value)
        job.python_file("p", "/Workspace/x.py", compute=value)
    elif isinstance(value, Autoscale):
        job = Job("j", compute=ClusterSpec("15.4.x-scala2.12", node_type_id="n", autoscale=value))
    elif isinstance(value, Retry):
        job = Job("j")
        job.notebook("n", "/x", retry=value)
    elif isinstance(value, Library):
        job = Job("j")
        job.notebook("n", "/x", libraries=[value], compute=cluster)
    elif isinstance(value, Webhook):
        job = Job("j", notifications=Notifications(on_failure=[value]))
    elif isinstance(value, HealthRule):
        job = Job("j", health=Health([value]))
    elif isinstance(value, Permission):
        job = Job("j", permissions=[value])
    else:
        keyword = {Notifications: "notifications", Health: "health", GitSource: "git", RunAs: "run_as"}
        job = Job("j", **{keyword[type(value)]: value})
    if not job._tasks:
        job.notebook("n", "/x")
    return job


def _validate_and_compile(job, diagnostics):
    from flowdef.compile.compiler import compile_job
    from flowdef.diagnostics import has_errors
    from flowdef.load.loader import LoadedProject
    from flowdef.validate import validate_project

    config = load_config(path=GOOD / "flowdef.toml")
    target = config.target("dev")
    loaded = LoadedProject(config=config, jobs=(job.to_model(),), diagnostics=tuple(diagnostics))
    diags = validate_project(loaded, target, templates=False)
    if not has_errors(diags):
        compile_job(loaded.jobs[0], target, config)
    return diags


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=st.sampled_from(CALLS), data=st.data())
def test_any_value_for_any_public_argument_is_a_diagnostic_never_an_internal_error(call, data):
    """One argument of one public call replaced by a random value of any type, the result used in a job, the job
    validated and compiled: the value is accepted, or the problem is a located flowdef diagnostic (collected) or a
    located DefinitionError (misuse); no other exception anywhere (an internal error would be one)."""
    what, build, valid = call
    argument = data.draw(st.sampled_from(sorted(valid)), label="argument")
    value = data.draw(WRONG, label="value")
    with collecting() as collected:
        try:
            job = _in_a_job(build(**{**valid, argument: value}))
        except DefinitionError as exc:  # misuse that stops the module: reported by the loader in words
            assert exc.location is not None, f"{what}({argument}={value!r}): {exc} has no location"
            return
    for d in collected.diagnostics:
        assert d.code.startswith("FD6") and d.location is not None
        assert d.location.file == __file__, f"{what}({argument}={value!r}) reported at {d.location}"
    _validate_and_compile(job, collected.diagnostics)


@pytest.mark.parametrize("what, build, valid", CALLS, ids=[c[0] for c in CALLS])
def test_the_valid_values_of_the_property_table_draw_no_diagnostic(what, build, valid):
    with collecting() as collected:
        job = _in_a_job(build(**valid))
    assert collected.diagnostics == []
    assert not [d for d in _validate_and_compile(job, ()) if d.code.startswith("FD6")]


def test_wrong_types_through_the_cli_never_print_an_internal_error(tmp_path, capsys):
    """The property above, end to end for a sample: a module full of wrong types is reported line by line."""
    lines = [
        'Retry("3")', 'Cron("0 0 0 * * ?", timezone=5)', 'Periodic("1")', 'Environment("e", dependencies=5)',
        'Notifications(on_failure=5)', 'TableUpdate(5)', 'ClusterSpec("x", spark_conf=["a"])',
        'GitSource.github("u", branch=5)', 'Health.over(run_duration_seconds="1")', 'Library.pypi(5)',
    ]
    body = "from flowdef import *\njob = Job('j')\njob.notebook('a', '/x')\n" + "\n".join(lines) + "\n"
    root = project(tmp_path, {"pipelines/p.py": body})
    code, out, err = run(["-C", str(root), "validate", "--format", "json"], capsys)
    assert code == 1 and "internal error" not in err
    diags = json.loads(out)
    assert sorted(d["line"] for d in diags) == list(range(4, 4 + len(lines)))
    assert {d["code"] for d in diags} == {"FD601"}


# ----------------------------------------------------------------------------------------------------------------
# 2. the config file


def test_toml_positions_cover_every_key_tomllib_reads():
    import tomllib

    text = (FIXTURES / "bad" / "cfg" / "every_target_checked.toml").read_text()
    text += '\n[extra]\n"quoted.key" = """multi\nline"""\narr = [\n  1, # one\n  { a = "x]" },\n]\n'
    data = tomllib.loads(text)
    keys, _ = positions(text)

    def walk(value, path):
        if isinstance(value, dict):
            for k, v in value.items():
                assert (*path, k) in keys, (*path, k)
                walk(v, (*path, k))

    walk(data, ())
    assert keys[("targets", "staging", "root_paht")] == 12
    assert config_line(text, ("extra", "arr", "1", "a"), value=True) == text.splitlines().index('  { a = "x]" },') + 1


def test_config_problems_are_all_reported_with_json_output(tmp_path, capsys):
    root = project(tmp_path, {}, config=(
        'project = "t"\n[targets.dev]\nmode = "development"\n# mode = "x"\n[targets.prod]\nmode = "prod"\n'
        'tags = "x"\n'))
    code, out, err = run(["-C", str(root), "validate", "--format", "json"], capsys)
    assert code == 1
    diags = json.loads(out)
    assert [(d["code"], d["line"]) for d in diags] == [("FD004", 6), ("FD004", 7)]


def test_a_missing_pipelines_folder_is_located_in_the_config(tmp_path, capsys):
    root = project(tmp_path, {}, config='project = "t"\npipelines = [\n  "pipes",\n  "jobs",\n]\n')
    (root / "jobs").mkdir()
    code, out, err = run(["-C", str(root), "validate"], capsys)
    assert code == 1
    assert "flowdef.toml:3:1: error[FD004]: no such pipeline folder or file: 'pipes'" in err + out


def test_pyproject_settings_are_located_under_tool_flowdef(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.flowdef]\nproject = "x"\n\n[tool.flowdef.targets.dev]\nmode = "dev"\n')
    with pytest.raises(flowdef.ConfigError) as caught:
        load_config(path=tmp_path / "pyproject.toml")
    assert caught.value.line == 8


# ----------------------------------------------------------------------------------------------------------------
# 3. every job created while a module is imported is collected


def test_jobs_in_loops_functions_lists_and_reused_variables_are_all_collected():
    config = load_config(path=GOOD / "flowdef.toml")
    loaded = load(config, [str(GOOD / "collected_jobs.py")])
    assert not loaded.diagnostics
    assert sorted(j.key for j in loaded.jobs) == [
        "good_collected_factory", "good_collected_in_a_list", "good_collected_loop_eu", "good_collected_loop_us",
        "good_collected_reused_first", "good_collected_reused_second",
    ]


def test_jobs_nobody_keeps_are_not_mistaken_for_each_other(tmp_path):
    """A job that nothing references after its module ran is freed, and a later job may get its id(): each module's
    jobs are taken from that module's own collector, never deduplicated by id."""
    files = {f"pipelines/m{i:02d}.py": f"""
        from flowdef import Job


        def make():
            Job("job_{i:02d}").notebook("t", "/x")


        make()
    """ for i in range(30)}
    root = project(tmp_path, files)
    loaded = load(load_config(path=root / "flowdef.toml"), [str(root / "pipelines")])
    assert not loaded.diagnostics
    assert sorted(j.key for j in loaded.jobs) == [f"job_{i:02d}" for i in range(30)]


def test_a_job_imported_from_another_pipeline_module_is_collected_once(tmp_path, capsys):
    root = project(tmp_path, {
        "pipelines/__init__.py": "",
        "pipelines/base.py": """
            from flowdef import Job
            upstream = Job("upstream")
            upstream.notebook("a", "/x")
        """,
        "pipelines/downstream.py": """
            from flowdef import Job, JobCompletion
            from pipelines.base import upstream
            job = Job("downstream", trigger=JobCompletion(upstream))
            job.notebook("b", "/y")
        """,
    })
    code, out, err = run(["-C", str(root), "list", "--format", "json"], capsys)
    assert code == 0, err
    assert sorted(j["key"] for j in json.loads(out)) == ["downstream", "upstream"]


def test_duplicate_job_keys_across_modules_are_still_reported(tmp_path, capsys):
    root = project(tmp_path, {
        "pipelines/a.py": "from flowdef import Job\njob = Job('Nightly A', key='nightly')\njob.notebook('a', '/x')\n",
        "pipelines/b.py": "from flowdef import Job\njob = Job('Nightly B', key='nightly')\njob.notebook('b', '/y')\n",
    })
    code, out, err = run(["-C", str(root), "validate", "--format", "json"], capsys)
    assert code == 1
    assert [(d["code"], Path(d["file"]).name, d["line"]) for d in json.loads(out)] == [("FD005", "b.py", 2)]


# ----------------------------------------------------------------------------------------------------------------
# 5. misuse in words


def test_branches_only_on_condition_handles_and_hasattr_stays_false_for_other_names():
    job = Job("j")
    load_handle = job.notebook("a", "/x")
    with pytest.raises(DefinitionError, match="only a condition task"):
        load_handle.true  # noqa: B018
    assert not hasattr(load_handle, "outcome")
    check = job.condition("c", "1", "==", "1")
    assert check.true.outcome == "true"


def test_one_spelling_for_cron_time_zones():
    assert Cron.daily(at="06:00", timezone="America/Sao_Paulo").timezone == "America/Sao_Paulo"
    with pytest.raises(DefinitionError, match=r"Cron.daily\(\) takes timezone=..., not tz="):
        Cron.daily(at="06:00", tz="UTC")
    with pytest.raises(DefinitionError, match="unexpected keyword argument 'zone'"):
        Cron.hourly(zone="UTC")


# ----------------------------------------------------------------------------------------------------------------
# 7. SQL markers: what the Databricks SQL grammar says


@pytest.mark.parametrize("sql, markers", [
    ("SELECT raw:customer.id, col:a.b FROM t WHERE x = :id", ["id"]),
    ("SELECT raw :customer FROM t", []),
    ("SELECT :a, (:b), f(:c), x+:d", ["a", "b", "c", "d"]),
    ("SELECT c1:['price']::decimal(5,2), c1:item[1].price::double FROM t", []),
    ("SELECT raw:`zip code`, raw:['fb:testid'] FROM t", []),
    ("SELECT * FROM IDENTIFIER(:catalog || '.' || :schema) LIMIT :n", ["catalog", "schema", "n"]),
    ("SELECT '${var}', ${hivevar:x}, ${y} FROM t WHERE a = :p", ["p"]),
    ("-- :nope\nSELECT /* :no */ a::int FROM t WHERE b IN (:x, :y) AND c = 'a:b' AND :flag", ["x", "y", "flag"]),
    ("SELECT CASE WHEN :a THEN :b ELSE :c END, sum(x):field FROM t", ["a", "b", "c"]),
    ("SELECT col -- comment\n :path FROM t", []),
    ("SELECT a FROM t WHERE\n  -- the id\n  :id = id", ["id"]),
    ("SELECT arr[0]:x, `weird col`:y, 'it''s:x', \"a:b\" FROM t WHERE d = :`my param`", ["my param"]),
    ("SELECT x FROM t WHERE ts > '12:30' AND y = \\:notamarker", []),
    # a "--" inside a block comment, a string over two lines or ${...} starts no comment
    ("SELECT a /* -- */ FROM t WHERE b = :x", ["x"]),
    ("SELECT 'one\n-- two' AS s, raw:path FROM t WHERE b = :x", ["x"]),
    ("SELECT ${a--b}:x1 FROM t", ["x1"]),
    ("SELECT 'it''s\n*/ -- :no' :also_no FROM t", []),
])
def test_sql_markers_follow_the_databricks_grammar(sql, markers):
    assert [name for name, _ in sql_markers(sql)] == markers


@pytest.mark.parametrize("build, message", [
    (lambda: Subscriber(user_name=3), "Subscriber(user_name=...) must be"),
    (lambda: Subscriber.destination(["d"]), "Subscriber(destination_id=...) must be"),
    (lambda: PowerBiModel("ws", 7), "PowerBiModel(model_name=...) must be"),
    (lambda: PowerBiModel("ws", "m", overwrite_existing="no"), "PowerBiModel(overwrite_existing=...) must be"),
    (lambda: PowerBiTable("main", "sales", None), "PowerBiTable(name=...) must be"),
    (lambda: PowerBiTable.of("main.sales.orders", storage_mode=1), "PowerBiTable(storage_mode=...) must be"),
])
def test_nested_task_values_check_their_own_arguments(build, message):
    with pytest.raises(DefinitionError) as caught:
        build()
    assert message in str(caught.value)
    assert caught.value.code == "FD601"
    assert caught.value.location.file == __file__
