"""Rules of task kinds, job settings, raw fields and compute: each problem's code at the user's line.

Each test writes a small pipeline module whose offending lines end with ``# expect: FDxxx [FDyyy]`` and checks
that validation reports exactly those codes at exactly those lines (for the codes these rules own, FD510-FD517,
nothing more; shared codes such as FD501 may also come from other rule modules on other lines).
"""

from __future__ import annotations

import itertools
import re
import textwrap

import attrs
import pytest

from flowdef.jobsapi import schema
from flowdef.load.config import load_config
from flowdef.diagnostics import CODES, format_text
from flowdef.load.loader import load
from flowdef.validate import validate_project
from flowdef.validate import structure as structure_rules
from flowdef.validate.structure import JobContext

OWN = {f"FD51{i}" for i in range(8)}
_counter = itertools.count()
_MARK = re.compile(r"#\s*expect:\s*((?:FD\d{3}\s*)+)")


def run(tmp_path, source: str, *, warehouse: bool = True, files: dict[str, str] | None = None):
    """Write ``source`` as a pipeline module of a fresh project; return (diagnostics, module path, project)."""
    name = f"defs_{next(_counter)}"
    toml = ['project = "t"', f'pipelines = ["{name}.py"]', 'default_target = "test"', "[targets.test]",
            'mode = "production"', 'root_path = "/Workspace/t"']
    if warehouse:
        toml.append('warehouse_id = "wh0"')
    (tmp_path / "flowdef.toml").write_text("\n".join(toml) + "\n")
    module = tmp_path / f"{name}.py"
    module.write_text(textwrap.dedent(source).lstrip("\n"))
    for rel, text in (files or {}).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    config = load_config(path=tmp_path / "flowdef.toml")
    project = load(config)
    assert not project.diagnostics, format_text(project.diagnostics)
    return validate_project(project, config.target(None)), module, project


def expected(module) -> set[tuple[str, int]]:
    out = set()
    for i, line in enumerate(module.read_text().splitlines(), 1):
        m = _MARK.search(line)
        if m:
            out |= {(code, i) for code in m.group(1).split()}
    return out


def check(tmp_path, source: str, **kwargs):
    diags, module, project = run(tmp_path, source, **kwargs)
    found = {(d.code, d.location.line) for d in diags if d.location and d.location.file == str(module)}
    want = expected(module)
    listing = format_text(diags)
    assert want <= found, f"missing {sorted(want - found)}\n{listing}"
    assert {f for f in found if f[0] in OWN} == {w for w in want if w[0] in OWN}, listing
    return diags


def messages(diags, code: str) -> list[str]:
    return [d.message for d in diags if d.code == code]


def test_codes_are_registered_and_not_renumbered():
    codes = list(CODES)
    assert [c for c in codes if c in OWN] == sorted(OWN)
    assert codes.index("FD510") > codes.index("FD505")  # appended after the original codes, none renumbered


def test_a_rich_valid_job_is_clean(tmp_path):
    diags, _, _ = run(tmp_path, """
        from flowdef import (Autoscale, ClusterSpec, EditMode, Environment, GitSource, Health, Job, JobCluster,
                             Library, Notifications, Permission, RunAs, Webhook)

        cluster = JobCluster("c", ClusterSpec("15.4.x-scala2.12", node_type_id="i3.xlarge", autoscale=Autoscale(1, 2)))
        job = Job("ok", git=GitSource.github("https://github.com/a/b", tag="v1"),
                  compute=Environment("default"),
                  notifications=Notifications(on_failure=["a@example.com", Webhook("d1")],
                                              on_duration_warning_threshold_exceeded=["a@example.com"]),
                  health=Health.over(run_duration_seconds=60), run_as=RunAs.user("a@example.com"),
                  permissions=[Permission.user("a@example.com", "IS_OWNER"), Permission.group("g", "CAN_VIEW")],
                  edit_mode=EditMode.EDITABLE, extra={"performance_target": "STANDARD"})
        job.python_wheel("w", "pkg", "main", params=["a"], compute=cluster, libraries=[Library.pypi("pkg==1")])
        job.spark_jar("j", "com.a.Main", compute=cluster, libraries=[Library.maven("com.a:b:1")])
        job.dbt("d", ["dbt build"], project_directory="dbt")
        job.pipeline("p", name="pipe")
        job.alert("a", workspace_path="/Workspace/a.dbalert.json")
        job.sql_query("q", "qid")
        job.raw_task("r", {"python_operator_task": {"main": "pkg.fn"}})
    """)
    assert diags == [], format_text(diags)


# ----------------------------------------------------------------------------------------------------------------
# notifications and health


def test_notifications(tmp_path):
    diags = check(tmp_path, """
        from flowdef import Health, HealthRule, Job, Notifications, Webhook

        hooks = [Webhook("h1"), Webhook("h2"), Webhook("h3"), Webhook("h4")]  # expect: FD502
        job = Job("n", notifications=Notifications(  # expect: FD514
            on_failure=["oncall@example.com", "not-an-address", "oncall@example.com"] + hooks,
            on_duration_warning_threshold_exceeded=["a@example.com"],
            alert_on_last_attempt=True,
        ))
        job.notebook("t", "/Workspace/nb", notifications=Notifications(  # expect: FD514
            on_streaming_backlog_exceeded=[Webhook("")]),  # expect: FD514
            health=Health([HealthRule("RUN_DURATION_SECONDS", 5)]))
    """)
    text = "\n".join(messages(diags, "FD514"))
    assert "'not-an-address' in on_failure is not an e-mail address (for a notification destination" in text
    assert "'oncall@example.com' is listed twice" in text
    assert "alert_on_last_attempt only exists on tasks" in text
    assert "on_duration_warning_threshold_exceeded is never sent: the job has no RUN_DURATION_SECONDS" in text
    assert "on_streaming_backlog_exceeded is never sent" in text
    assert "webhook in on_streaming_backlog_exceeded has an empty destination id" in text
    assert "4 webhooks for on_failure; at most 3" in messages(diags, "FD502")[0]
    never_sent = [d for d in diags if "never sent" in d.message or "listed twice" in d.message]
    assert never_sent and all(d.severity == "warning" for d in never_sent)


def test_health_rules(tmp_path):
    diags = check(tmp_path, """
        from flowdef import Health, HealthRule, Job

        job = Job("h", health=Health([  # expect: FD513 FD501
            HealthRule("run_duration_seconds", 10),
            HealthRule("STREAMING_BACKLOG_BYTES", -1, op="GREATER_THAN_OR_EQUAL"),
        ]))
        job.notebook("t", "/Workspace/nb")
    """)
    text = "\n".join(messages(diags, "FD513"))
    assert "health metric 'run_duration_seconds' is not one of" in text and "write 'RUN_DURATION_SECONDS'" in text
    assert "health rule op 'GREATER_THAN_OR_EQUAL' is not valid: the API knows only 'GREATER_THAN'" in text
    assert any("non-negative integer" in m for m in messages(diags, "FD501"))


# ----------------------------------------------------------------------------------------------------------------
# identity, access, Git, tags, edit mode


def test_permissions(tmp_path):
    diags = check(tmp_path, """
        from flowdef import Job, Permission

        job = Job("p", permissions=[
            Permission.user("a@example.com", "can_manage"),  # expect: FD515
            Permission.group("admins", "IS_OWNER"),  # expect: FD515
            Permission.user("b@example.com", "IS_OWNER"),  # expect: FD515
            Permission.user("a@example.com", "CAN_VIEW"),  # expect: FD515
            Permission("CAN_VIEW"),  # expect: FD515
        ])
        job.notebook("t", "/Workspace/nb")
        other = Job("q", permissions=[Permission.group("g", "CAN_VIEW")])  # expect: FD515
        other.notebook("t", "/Workspace/nb")
    """)
    text = "\n".join(messages(diags, "FD515"))
    assert "permission level 'can_manage' is not one of CAN_VIEW, CAN_MANAGE_RUN, CAN_MANAGE, IS_OWNER; " \
           "write 'CAN_MANAGE'" in text
    assert "group 'admins' cannot own a job" in text
    assert "a job has exactly one owner; permissions[1] is already IS_OWNER" in text
    assert "user 'a@example.com' is granted twice" in text
    assert "names exactly one user, group or service principal" in text
    assert "permissions name no owner" in text


def test_run_as_git_tags_and_edit_mode(tmp_path):
    diags = check(tmp_path, """
        from flowdef import GitSource, Job, RunAs

        job = Job(  # expect: FD501 FD513
            "g",
            tags={"flowdef_job": "mine"},
            run_as=RunAs(user_name="a@example.com", group_name="g"),  # expect: FD501
            git=GitSource("https://github.com/a/b", "github", branch="main", commit="x" * 65),  # expect: FD513 FD501 FD502
            edit_mode="ui_locked",
        )
        job.notebook("t", "/Workspace/nb")
        none = Job("none", git=GitSource.gitlab("https://gitlab.com/a/b"))  # expect: FD501
        none.notebook("t", "/Workspace/nb")
    """)
    text = "\n".join(d.message for d in diags)
    assert "git provider 'github' is not one of" in text and "write 'gitHub'" in text
    assert "exactly one of branch=, tag= or commit= (got branch, commit)" in text
    assert "exactly one of branch=, tag= or commit= (got none)" in text
    assert "git commit is 65 characters; at most 64" in text
    assert "run_as needs exactly one of a user, a service principal or a group (got user_name, group_name)" in text
    assert "tag 'flowdef_job' is flowdef's identity tag" in text
    assert "edit_mode 'ui_locked' is not one of UI_LOCKED, EDITABLE; write 'UI_LOCKED'" in text


# ----------------------------------------------------------------------------------------------------------------
# task kinds


def test_kind_rules(tmp_path):
    diags = check(tmp_path, """
        from flowdef import Environment, Job, Subscriber

        job = Job("k", compute=Environment("default"))
        job.dbt("too_many", [f"dbt run -s m{i}" for i in range(11)], project_directory="dbt")  # expect: FD502
        job.dbt("no_dbt", ["run", "dbt build"], project_directory="dbt")  # expect: FD501
        job.dbt("both", ["dbt run"], project_directory="dbt", profiles_directory="p", warehouse="w")  # expect: FD501
        job.dbt("missing", ["dbt run"], project_directory="nowhere")  # expect: FD406
        job.dbt("no_dir", ["dbt run"])  # expect: FD501
        job.pipeline("neither")  # expect: FD501
        job.pipeline("both_ids", "p-1", name="pipe")  # expect: FD501
        job.run_job("bad_id", 0)  # expect: FD501
        job.alert("neither_alert")  # expect: FD501
        job.alert("many", "a1", subscribers=[f"u{i}@example.com" for i in range(101)])  # expect: FD502
        job.sql_alert("sub", "a2", subscribers=[Subscriber()])  # expect: FD501
        job.for_each("empty", inputs=["a"])  # expect: FD510
        job.python_wheel("w", "", "main")  # expect: FD501
    """, files={"dbt/dbt_project.yml": "name: t\\n"})
    text = "\n".join(d.message for d in diags)
    assert "dbt task 'too_many' has 11 commands; at most 10" in text
    assert "dbt command 'run' of task 'no_dbt' must start with 'dbt'; write 'dbt run'" in text
    assert "dbt project 'nowhere' of task 'missing' has no dbt_project.yml" in text
    assert "for-each task 'empty' has no nested task" in text
    assert "pipeline task 'neither' needs exactly one of a pipeline id or name=..., got neither" in text


def test_dbt_catalog_needs_a_warehouse(tmp_path):
    check(tmp_path, """
        from flowdef import Environment, Job

        job = Job("k", compute=Environment("default"))
        job.dbt("t", ["dbt run"], project_directory="dbt", catalog="main")  # expect: FD501
    """, warehouse=False, files={"dbt/dbt_project.yml": "name: t\\n"})


def test_wheel_parameters_xor_named_parameters(tmp_path):
    """The DSL cannot express both (a list is argv, a dict is named); the rule guards the model itself."""
    _, module, project = run(tmp_path, """
        from flowdef import Environment, Job

        job = Job("w", compute=Environment("default"))
        job.python_wheel("w", "pkg", "main", params=["--a"])
    """)
    job = project.jobs[0]
    task = job.tasks[0]
    both = attrs.evolve(task, kind=attrs.evolve(task.kind, named_parameters={"a": "1"}))
    config = project.config
    diags = structure_rules.check(JobContext(attrs.evolve(job, tasks=(both,)), config.target(None), config))
    (d,) = [d for d in diags if d.code == "FD501"]
    assert "both parameters and named_parameters" in d.message and d.location.line == 4


def test_run_job_references(tmp_path):
    diags = check(tmp_path, """
        from flowdef import Job

        a = Job("a")
        b = Job("b")
        a.run_job("to_b", b)
        b.run_job("to_a", a)  # expect: FD516
        a.run_job("self", a)  # expect: FD516
        a.run_job("typo", "bb")  # expect: FD516
        a.run_job("other", 42)
    """)
    text = "\n".join(messages(diags, "FD516"))
    assert "run-job tasks form a cycle of jobs: a -> b -> a" in text
    assert "runs its own job 'a'" in text
    assert "runs job 'bb', which is not a job of this project; did you mean 'b'?" in text


# ----------------------------------------------------------------------------------------------------------------
# the raw escape hatch


def test_raw_tasks(tmp_path):
    diags = check(tmp_path, """
        from flowdef import Job

        job = Job("r")
        job.raw_task("none", {"description": "x"})  # expect: FD510 FD511
        job.raw_task("two", {"ai_runtime_task": {}, "python_operator_task": {}})  # expect: FD510 FD512
        job.raw_task("typed", {"notebook_task": {"notebook_path": "/x"}})  # expect: FD511
        job.raw_task("typo", {"python_operator_task": {"main": "m"}, "max_retries": 2, "disable_auto_optimisation": True})  # expect: FD511
        job.raw_task("gpu", {"python_operator_task": {"main": "m"}, "compute": {"hardware_accelerator": "gpu_1xa10"}})  # expect: FD513
        job.raw_task("shape", {"python_operator_task": {"main": 3}})  # expect: FD512
        job.notebook("extra_kind", "/x", extra={"spark_submit_task": {}})  # expect: FD510
        job.notebook("env_vars", "/x", extra={"environment_variables_key": "nope"})  # expect: FD504
    """)
    text = "\n".join(d.message for d in diags)
    assert "raw task 'none' has no task kind" in text
    assert "raw task 'two' has 2 task kinds (ai_runtime_task, python_operator_task)" in text
    assert "'notebook_task' is typed in flowdef: declare the task with job.notebook(...)" in text
    assert "'max_retries' is typed in flowdef: set it with retry=Retry(n)" in text
    assert "'disable_auto_optimisation' is not a Jobs API task field; did you mean 'disable_auto_optimization'?" in text
    assert "write 'GPU_1xA10'" in text
    assert "ai_runtime_task: 'deployments' is a required property" in text
    assert "extra 'spark_submit_task' would give task 'extra_kind' a second kind" in text
    assert "environment_variables_key 'nope' of task 'env_vars' is not declared" in text


def test_raw_job_settings(tmp_path):
    diags = check(tmp_path, """
        from flowdef import Cron, Job

        job = Job("j", extra={"performance_targett": "STANDARD", "schedule": {}, "permissions": []})  # expect: FD511
        job.notebook("t", "/x")
        bad = Job("k", extra={"performance_target": "standard", "budget_policy_id": 42})  # expect: FD513 FD512
        bad.notebook("t", "/x")
        both = Job("l", trigger=Cron.daily(), extra={"triggers": [], "duration_target": "4h"})  # expect: FD501
        both.notebook("t", "/x")
        fmt = Job("m", extra={"format": "MULTI_TASK", "environment_variables": [{"environment_variables_key": "e"}]})  # expect: FD511
        fmt.notebook("t", "/x", extra={"environment_variables_key": "e"})
    """)
    text = "\n".join(d.message for d in diags)
    assert "'performance_targett' is not a Jobs API job setting; did you mean 'performance_target'?" in text
    assert "'schedule' is typed in flowdef: set it with Job(trigger=Cron(...))" in text
    assert "'permissions' is a bundle setting, not a Jobs API field; use Job(permissions=[Permission....])" in text
    assert "extra.performance_target: 'standard' is not one of COST_OPTIMIZED, PERFORMANCE_OPTIMIZED, STANDARD; " \
        "write 'STANDARD'" in text
    assert "extra.budget_policy_id: 42 is not of type string" in text
    assert "cannot be combined with Job(trigger=...)" in text
    assert "duration_target only applies with performance_target 'COST_OPTIMIZED'" in text
    assert "'format' is ignored by the Jobs API" in text


def test_raw_fields_are_checked_without_a_schema_file(tmp_path, monkeypatch):
    """Names, types and enums of raw fields come from the table shipped in the package: no bundle schema file,
    no jsonschema needed (an installed flowdef checks exactly what a development checkout checks)."""
    monkeypatch.setenv("FLOWDEF_BUNDLE_SCHEMA", str(tmp_path / "absent.json"))
    import builtins

    real_import = builtins.__import__

    def no_jsonschema(name, *args, **kwargs):
        if name == "jsonschema" or name.startswith("jsonschema."):
            raise ImportError("jsonschema is a test-only dependency")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jsonschema)
    diags = check(tmp_path, """
        from flowdef import Job

        job = Job("j", extra={"performance_targett": "STANDARD", "performance_target": "standard"})  # expect: FD511 FD513
        job.raw_task("r", {"ai_runtime_task": {"deployments": "x", "experiment": "e"}})  # expect: FD512
    """)
    text = "\n".join(d.message for d in diags)
    assert "ai_runtime_task.deployments: 'x' is not of type array" in text


# ----------------------------------------------------------------------------------------------------------------
# compute


def test_compute_definitions(tmp_path):
    diags = check(tmp_path, """
        from flowdef import Autoscale, ClusterSpec, Environment, ExistingCluster, Job, JobCluster

        default = Environment("default")
        other = Environment("default", version="4")  # expect: FD517
        unused = Environment("spare")  # expect: FD505
        bad_key = Environment("my env")  # expect: FD501
        cluster = JobCluster("c", ClusterSpec(  # expect: FD501 FD513 FD511 FD406 FD512
            "15.4.x-scala2.12", num_workers=2, autoscale=Autoscale(4, 2), runtime_engine="photon",
            spark_conf={"spark.x": 1}, init_scripts=["init/missing.sh"],
            extra={"num_workers": 3, "aws_atributes": {}, "enable_elastic_disk": "yes"},
        ))
        job = Job("c", compute=default, environments=[unused])
        job.python_file("a", "/Workspace/a.py")
        job.python_file("b", "/Workspace/a.py", compute=other)
        job.python_file("d", "/Workspace/a.py", compute=bad_key)
        job.python_file("e", "/Workspace/a.py", compute=cluster)
        job.python_file("f", "/Workspace/a.py", compute=ExistingCluster(""))  # expect: FD501
        job.python_file("g", "/Workspace/a.py", compute=ClusterSpec("15.4.x-scala2.12"))  # expect: FD501
        lonely = Job("lonely", compute=Environment("x"))  # expect: FD505
        lonely.notebook("n", "/Workspace/nb")
    """)
    text = "\n".join(d.message for d in diags)
    assert "environment key 'default' names two different definitions" in text
    assert "environment 'spare' is declared but no task runs on it" in text
    assert "environment key 'my env' is invalid" in text
    assert "cluster sets both num_workers and autoscale" in text
    assert "autoscale needs 0 <= min_workers <= max_workers" in text
    assert "runtime_engine 'photon' is not one of PHOTON, STANDARD; write 'PHOTON'" in text
    assert "spark_conf['spark.x'] must be a string, got 1 (write '1')" in text
    assert "init script 'init/missing.sh' does not exist" in text
    assert "'num_workers' is a ClusterSpec keyword" in text
    assert "'aws_atributes' is not a cluster field; did you mean 'aws_attributes'?" in text
    assert "enable_elastic_disk: 'yes' is not of type boolean" in text
    assert "Job(compute=...) is a default no task uses" in text
    neither = [d for d in diags if "neither num_workers nor autoscale" in d.message]
    assert neither and neither[0].severity == "warning"


def test_libraries_and_jars(tmp_path):
    diags = check(tmp_path, """
        from flowdef import ClusterSpec, Environment, Job, JobCluster, Library

        cluster = JobCluster("c", ClusterSpec("15.4.x-scala2.12", num_workers=1))
        job = Job("l", compute=Environment("default", version="latest"))  # expect: FD501
        job.python_file("serverless", "/Workspace/a.py", libraries=[Library.pypi("x==1")])  # expect: FD503
        job.python_file("classic", "/Workspace/a.py", compute=cluster, libraries=[
            Library.whl("dist/missing.whl"),  # expect: FD406
            Library.whl("/Volumes/a/b/c/lib.tar.gz"),  # expect: FD501
            Library.maven("com.acme:udfs"),  # expect: FD501
            Library.pypi("dist/x.whl"),  # expect: FD501
            Library.requirements("requirements.txt"),
        ])
        job.spark_jar("jar_serverless", "com.a.Main")  # expect: FD503
        job.spark_jar("jar_classic", "com.a.Main", compute=cluster)  # expect: FD503
    """, files={"requirements.txt": "x==1\\n"})
    text = "\n".join(d.message for d in diags)
    assert "task 'serverless' runs on serverless environment 'default', where task libraries are not installed" in text
    assert "whl library 'dist/missing.whl' of task 'classic' does not exist" in text
    assert "maven coordinates 'com.acme:udfs' must be 'group:artifact:version'" in text
    assert "pypi library 'dist/x.whl' looks like a file: use Library.whl(...)" in text
    assert "which has no java_dependencies" in text
    assert "installs no JAR" in text
    assert "version must be a serverless environment version" in text


def test_sql_kinds_need_a_warehouse(tmp_path):
    check(tmp_path, """
        from flowdef import INPUT, Job

        job = Job("s")
        job.sql_query("q", "qid")  # expect: FD405
        job.sql_alert("a", "aid")  # expect: FD405
        job.sql_dashboard("d", "did")  # expect: FD405
        job.sql_query("ok", "qid", warehouse="w1")
        job.for_each("each", inputs=["x"]).sql_query("inner", "qid", params={"v": INPUT})  # expect: FD405
        job.dashboard("lakeview", "lid")
    """, warehouse=False)


# ----------------------------------------------------------------------------------------------------------------
# DSL misuse that cannot be recorded raises at the call


def test_dsl_misuse_raises(tmp_path):
    from flowdef import DefinitionError, Job, Library

    a, b = Job("a"), Job("b")
    check_a = a.condition("c", "1", "==", "1")
    with pytest.raises(DefinitionError, match="belongs to job 'a'"):
        b.notebook("n", "/x", depends_on=[check_a.true])
    each = a.for_each("each", inputs=["x"])
    with pytest.raises(DefinitionError, match="cannot take depends_on="):
        each.notebook("n", "/x", depends_on=["c"])
    each.notebook("n", "/x")
    with pytest.raises(DefinitionError, match="already runs task 'n'"):
        each.notebook("m", "/x")
    with pytest.raises(DefinitionError, match=r"job.for_each\(inputs=...\) must be a list"):
        a.for_each("bad", inputs=42)
    with pytest.raises(DefinitionError, match="run_job: expected a Job"):
        a.run_job("r", 1.5)
    with pytest.raises(DefinitionError, match="libraries"):
        a.python_file("p", "/x.py", libraries=["pandas"])
    with pytest.raises(DefinitionError, match="must be JSON"):
        a.raw_task("r", {"ai_runtime_task": {"x": object()}})
    with pytest.raises(DefinitionError, match=r"Job\(notifications=...\) must be Notifications"):
        Job("x", notifications={"on_failure": ["a@b.c"]})
    assert a.python_file("ok", "/x.py", libraries=Library.pypi("x")).key == "ok"


def test_input_references():
    from flowdef import INPUT, DefinitionError, Job

    assert INPUT == "{{input}}" and INPUT.region == "{{input.region}}"
    assert INPUT["my-key"] == "{{input.`my-key`}}" and INPUT.a.b == "{{input.a.b}}"
    assert INPUT[2:7] == "input"  # slicing the text still works
    job = Job("i")
    with pytest.raises(DefinitionError, match=r"INPUT\['count'\]"):
        job.for_each("e", inputs=["x"]).notebook("n", "/x", params={"v": INPUT.count})
    assert job.condition("c", 1.5, "<=", True).key == "c"
    spec = job.to_model().tasks[-1].kind
    assert (spec.op, spec.left, spec.right) == ("LESS_THAN_OR_EQUAL", "1.5", "true")
