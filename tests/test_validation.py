"""Unit tests of the validation building blocks: the ``{{...}}`` parser, literal-secret detection, the task graph,
and the rules on control flow, run_if, limits and triggers (each through a small job built with the DSL)."""

from __future__ import annotations


import pytest

from flowdef import INPUT, Branch, Environment, FileArrival, Job, JobParamRef, RunIf, TableUpdate, TaskValueRef
from flowdef.load.config import ProjectConfig, Target
from flowdef.graph import Ancestry, Dag, cycles
from flowdef.load.loader import LoadedProject
from flowdef.jobsapi.refs import classify, find_refs, is_single_ref
from flowdef.validate import secrets, validate_project
from tests.conftest import FIXTURES

TARGET = Target("dev", root_path="/Workspace/Shared/.flowdef/t/dev", warehouse_id="wh")
CONFIG = ProjectConfig(root=FIXTURES / "good", project="t", targets=(TARGET,))


def diags(job: Job, target: Target = TARGET):
    project = LoadedProject(config=CONFIG, jobs=(job.to_model("t"),), diagnostics=())
    return validate_project(project, target)


def codes(job: Job, target: Target = TARGET) -> list[str]:
    return [d.code for d in diags(job, target)]


def kinds(text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(r.kind, r.parts) for r in find_refs(text)]


# ----------------------------------------------------------------------------------------------------------------
# the reference parser


@pytest.mark.parametrize("text, expected", [
    ("no references", []),
    ("{{job.id}}", [("job", ("job", "id"))]),
    ("{{ job.run_id }}", [("job", ("job", "run_id"))]),  # spaces inside the braces are tolerated
    ("a {{job.name}} b {{task.name}} c", [("job", ("job", "name")), ("task", ("task", "name"))]),
    ("{{job.parameters.catalog}}", [("job.parameters", ("job", "parameters", "catalog"))]),
    ("{{job.parameters.`start-date`}}", [("job.parameters", ("job", "parameters", "start-date"))]),
    ("{{job.parameters.`a.b c`}}", [("job.parameters", ("job", "parameters", "a.b c"))]),
    ("{{job.parameters.`x}}y`}}", [("job.parameters", ("job", "parameters", "x}}y"))]),  # braces in backticks
    ("{{tasks.`my-task`.values.`n-rows`}}", [("tasks.values", ("tasks", "my-task", "values", "n-rows"))]),
    ("{{tasks.load.result_state}}", [("tasks", ("tasks", "load", "result_state"))]),
    ("{{job.start_time.iso_date}}", [("job", ("job", "start_time", "iso_date"))]),
    ("{{job.trigger.time.is_weekday}}", [("job", ("job", "trigger", "time", "is_weekday"))]),
    ("{{job.trigger.file_arrival.location}}", [("job", ("job", "trigger", "file_arrival", "location"))]),
    ("{{workspace.url}}", [("workspace", ("workspace", "url"))]),
    ("{{input}}", [("input", ("input",))]),
    ("{{input.region}}", [("input", ("input", "region"))]),
    ("{{secrets/etl/db-password}}", [("secret", ("secrets", "etl", "db-password"))]),
    ("{{secrets/team@corp.com/key.v2}}", [("secret", ("secrets", "team@corp.com", "key.v2"))]),
])
def test_well_formed_references(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize("text, problem", [
    ("{{job.id", "without a matching '}}'"),
    ("job.id}}", "without a matching '{{'"),
    ("{{}}", "empty reference"),
    ("{{job..id}}", "empty name"),
    ("{{job.id.}}", "empty name"),
    ("{{job.parameters.my-param}}", "backticks, `my-param`"),
    ("{{job.parameters.x + 1}}", "no spaces, expressions"),
    ("{{job.parameters.x y}}", "no spaces, expressions"),
    ("{{len(job.name)}}", "no spaces, expressions"),
    ("{{job.parameters.`open}}", "unterminated backtick"),
    ("{{job.parameters.``}}", "empty name in backticks"),
    ("{{secrets/scope}}", "{{secrets/<scope>/<key>}}"),
    ("{{secrets/a/b/c}}", "{{secrets/<scope>/<key>}}"),
    ("{{secrets/sc ope/key}}", "secret scope"),
    ("{{secrets/scope/k:ey}}", "secret key"),
    ("{{{job.id}}}", "no spaces, expressions"),
])
def test_malformed_references(text, problem):
    refs = find_refs(text)
    assert refs and all(r.kind == "malformed" for r in refs[:1]), refs
    assert any(problem in r.problem for r in refs), [r.problem for r in refs]


def test_a_reference_inside_another_is_reported_and_the_inner_one_still_parsed():
    refs = find_refs("{{ {{job.id}} }}")
    assert [r.kind for r in refs] == ["malformed", "job", "malformed"]


def test_unknown_and_deprecated_names():
    assert classify("job.naem").kind == "unknown"
    assert "did you mean 'job'" in classify("jobs.id").problem
    assert classify("job.start_time").kind == "unknown"
    assert classify("tasks.a.value.b").kind == "unknown"
    assert classify("input.a.b").kind == "unknown"
    assert classify("workspace.name").kind == "unknown"
    deprecated = classify("run_id")
    assert deprecated.kind == "deprecated" and "{{job.run_id}}" in deprecated.problem


def test_typed_references_parse_back_to_what_they_name():
    for name in ("catalog", "start-date", "a.b", "with space"):
        (ref,) = find_refs(JobParamRef(name))
        assert ref.kind == "job.parameters" and ref.parts[2] == name
    (ref,) = find_refs(TaskValueRef("my-task", "n-rows"))
    assert ref.kind == "tasks.values" and ref.parts[1:] == ("my-task", "values", "n-rows")
    (ref,) = find_refs(INPUT["count"])
    assert ref.kind == "input" and ref.parts == ("input", "count")


def test_single_reference_detection_and_cache():
    assert is_single_ref("{{tasks.t.values.ids}}")
    assert is_single_ref(" {{job.parameters.ids}} ")
    assert not is_single_ref("[{{job.parameters.a}}]")
    assert not is_single_ref("{{job.id}}{{job.id}}")
    assert not is_single_ref("{{job.id")
    assert find_refs("x {{job.id}}") is find_refs("x {{job.id}}")  # parsed once, then cached


# ----------------------------------------------------------------------------------------------------------------
# literal secrets


@pytest.mark.parametrize("value", [
    "dapi0123456789abcdef0123456789abcdef",
    "Bearer dapi0123456789abcdef0123456789abcdef-2",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "glpat-abcdefghij0123456789",
    "xoxb-1234567890-abcdefghij",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijklmnop",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abcdefghijABCDEFGHIJ0123==",
    "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=abcdefghijklmnopqrstuv",
    "jdbc:postgresql://db:5432/x?user=etl&password=Winter2024",
    "postgres://etl:Winter2024@db/claims",
    "--password=Winter2024",
])
def test_values_that_look_like_credentials(value):
    assert secrets.value_secret(value)


@pytest.mark.parametrize("value", [
    "{{secrets/etl/token}}",
    "password={{secrets/etl/db}}",
    "https://{{secrets/etl/user}}:{{secrets/etl/pw}}@db",
    "https://docs.databricks.com/jobs",
    "/Volumes/main/landing/files/",
    "token_count=5",
    "dapi-not-a-token",
    "${flowdef.jobs.upstream.id}",
    "SELECT * FROM t WHERE password_hash IS NULL",
])
def test_values_that_do_not(value):
    assert secrets.value_secret(value) is None


@pytest.mark.parametrize("name, is_secret", [
    ("password", True), ("db_password", True), ("dbPassword", True), ("apiKey", True), ("api_key", True),
    ("client_secret", True), ("GITHUB_TOKEN", True), ("AWS_SECRET_ACCESS_KEY", True), ("fs.s3a.secret.key", True),
    ("spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net", True), ("passphrase", True),
    ("secret_scope", False), ("token_url", False), ("max_tokens", False), ("key", False), ("partition_key", False),
    ("fs.s3a.access.key", False), ("fs.azure.sas.token.provider.type", False), ("keyword", False),
])
def test_names_that_hold_credentials(name, is_secret):
    assert secrets.secret_name(name) is is_secret


def test_pairs_and_argv():
    assert secrets.pair_secret("password", "{{secrets/a/b}}") is None
    assert secrets.pair_secret("password", "") is None
    assert secrets.pair_secret("password", "hunter2")
    assert secrets.pair_secret("catalog", "dapi" + "0" * 32)
    assert secrets.argv_pairs(["--user", "etl", "--password=x", "-v", "--token", "t", "--flag"]) == [
        ("user", "etl"), ("password", "x"), ("token", "t"),
    ]


# ----------------------------------------------------------------------------------------------------------------
# the graph


def test_order_cycles_and_ancestry():
    g = Dag("abcde", [("a", "b"), ("b", "c"), ("a", "d"), ("a", "b"), ("x", "a"), ("e", "e")])
    assert g.order == ["a", "e", "b", "d", "c"] and g.is_acyclic
    anc = Ancestry(g)
    assert anc.is_ancestor("a", "c") and not anc.is_ancestor("d", "c") and not anc.is_ancestor("c", "a")
    assert sorted(anc.ancestors("c")) == ["a", "b"]
    cyclic = Dag("abcdef", [("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("e", "d"), ("c", "f")])
    assert cycles(cyclic) == [["a", "b", "c", "a"], ["d", "e", "d"]]
    assert not cyclic.is_acyclic


def test_the_shortest_cycle_is_printed():
    g = Dag("abcd", [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a"), ("b", "a")])
    assert cycles(g) == [["a", "b", "a"]]


def test_a_long_chain_needs_no_recursion():
    n = 30_000
    keys = [f"t{i}" for i in range(n)]
    edges = [(keys[i], keys[i + 1]) for i in range(n - 1)] + [(keys[-1], keys[0])]
    (cycle,) = cycles(Dag(keys, edges))
    assert len(cycle) == n + 1


# ----------------------------------------------------------------------------------------------------------------
# rules


def test_condition_branches_and_outcomes():
    job = Job("c", params={"env": "dev"})
    check = job.condition("is_prod", job.params.env, "==", "prod")
    job.notebook("yes", "/x", depends_on=[check.true])
    job.notebook("no", "/x", depends_on=[check.false])
    job.notebook("either", "/x", depends_on=[check])
    assert codes(job) == []
    load = job.notebook("load", "/x")
    job.notebook("bad", "/x", depends_on=[Branch(load, "true"), Branch(check, "True")])
    found = [d for d in diags(job) if d.code == "FD110"]
    assert len(found) == 2
    assert any('write "true"' in d.message for d in found)


def test_condition_operators_are_spelled_the_api_way():
    for op in ("==", "!=", ">", ">=", "<", "<=", "EQUAL_TO", "LESS_THAN"):
        job = Job("c", params={"env": "dev"})
        job.condition("k", job.params.env, op, "prod" if op in ("==", "!=", "EQUAL_TO") else "{{job.id}}")
        assert codes(job) == [], op
    job = Job("c", params={"env": "dev"})
    job.condition("k", job.params.env, "equals", "prod")
    (d,) = diags(job)
    assert d.code == "FD112" and "did you mean 'EQUAL_TO'" in d.message


def test_numeric_looking_operands_of_string_comparisons():
    job = Job("c")
    count = job.notebook("count", "/x", values={"rows": int, "name": str})
    job.condition("a", count.values.rows, ">=", 10, depends_on=[count])  # numeric comparison: fine
    job.condition("b", count.values.name, "==", "eu", depends_on=[count])  # strings: fine
    job.condition("c", count.values.name, "==", True, depends_on=[count])  # "true": fine
    assert codes(job) == []
    job.condition("d", count.values.name, "==", "12.5", depends_on=[count])
    job.condition("e", count.values.rows, "==", count.values.name, depends_on=[count])
    assert codes(job) == ["FD113", "FD113"]


def test_failure_handlers_that_can_never_run():
    job = Job("r")
    a = job.notebook("a", "/x")
    off = job.notebook("off", "/x", disabled=True)
    job.notebook("any_failed", "/x", depends_on=[a, off], run_if=RunIf.AT_LEAST_ONE_FAILED)  # a can fail: fine
    job.notebook("all_failed", "/x", depends_on=[a, off], run_if=RunIf.ALL_FAILED)  # off never fails
    job.notebook("done", "/x", depends_on=[off], run_if=RunIf.ALL_DONE)  # not a failure handler
    assert [(d.code, d.message.split("'")[1]) for d in diags(job)] == [("FD114", "all_failed")]


def test_a_condition_behind_a_task_that_can_fail_can_be_upstream_failed():
    job = Job("r", params={"env": "dev"})
    load = job.notebook("load", "/x")
    check = job.condition("is_prod", job.params.env, "==", "prod", depends_on=[load])
    job.notebook("alert", "/x", depends_on=[check], run_if=RunIf.AT_LEAST_ONE_FAILED)
    assert codes(job) == []


def test_run_if_on_a_root_task():
    job = Job("r")
    job.notebook("a", "/x", run_if=RunIf.ALL_SUCCESS)
    job.notebook("b", "/x", run_if=RunIf.NONE_FAILED)
    job.notebook("c", "/x", run_if=RunIf.ALL_FAILED)
    assert codes(job) == ["FD115", "FD114"]


def test_for_each_inputs():
    job = Job("f", params={"ids": "[1, 2]", "csv": "1,2", "later": ""})
    lister = job.notebook("lister", "/x", values={"ids": list})
    job.for_each("a", inputs=["x", "y"]).notebook("a1", "/x", params={"v": INPUT})
    job.for_each("b", inputs=job.params.ids).notebook("b1", "/x", params={"v": INPUT.id})
    job.for_each("c", inputs=job.params.later).notebook("c1", "/x", params={"v": INPUT})  # given at run time
    job.for_each("d", inputs=lister.values.ids, depends_on=[lister]).notebook("d1", "/x", params={"v": INPUT})
    job.for_each("e", inputs="[{{job.parameters.ids}}]").notebook("e1", "/x", params={"v": INPUT})
    assert codes(job) == []
    job.for_each("g", inputs=job.params.csv).notebook("g1", "/x", params={"v": INPUT})
    (d,) = diags(job)
    assert (d.code, d.severity) == ("FD211", "warning")
    overridden = Target("prod", root_path="/r", warehouse_id="wh", params=(("csv", '["1","2"]'),))
    assert codes(job, overridden) == []  # the target's default is an array


def test_limits_count_the_target():
    job = Job("x" * 4091)
    job.notebook("a", "/x")
    assert codes(job) == []  # 4,091 bytes; with the 6-byte "[dev] " prefix it is 4,097
    assert codes(job, Target("dev", root_path="/r", name_prefix="[dev] ")) == ["FD006"]
    tagged = Job("t", tags={f"k{i}": "v" for i in range(20)})
    tagged.notebook("a", "/x")
    assert codes(tagged) == []
    # 20 + 2 new target tags (k0 is the job's own) + 3 identity tags = 25: the limit exactly
    assert codes(tagged, Target("dev", root_path="/r", tags=(("team", "a"), ("cost", "b"), ("k0", "v")))) == []
    assert codes(tagged, Target("dev", root_path="/r", tags=(("team", "a"), ("cost", "b"), ("owner", "c")))) == [
        "FD502"]


def test_max_concurrent_runs_zero_warns():
    job = Job("m", max_concurrent_runs=0)
    job.notebook("a", "/x")
    (d,) = diags(job)
    assert (d.code, d.severity) == ("FD506", "warning")


def test_trigger_strings_are_checked_with_the_targets_values():
    job = Job("t", params={"catalog": "main"}, trigger=TableUpdate(["{{job.parameters.catalog}}.bronze.claims"]))
    job.notebook("a", "/x")
    assert codes(job) == []
    broken = Target("b", root_path="/r", params=(("catalog", "main.extra"),))
    assert codes(job, broken) == ["FD304"]
    job = Job("u", params={"landing": "/mnt/landing"}, trigger=FileArrival("{{job.parameters.landing}}"))
    job.notebook("a", "/x")
    assert codes(job) == ["FD304"]


def test_secret_references_are_fine_everywhere():
    job = Job("s", params={"password": "{{secrets/db/password}}", "secret_scope": "db"})
    job.python_file("a", "scripts/ingest.py", compute=Environment("default"),
                    params={"token": "{{secrets/api/token}}", "since": "2024-01-01"})
    assert codes(job) == []


def test_a_thousand_chained_tasks_with_task_values_validate_clean():
    # (its speed is measured by benchmarks/bench_scaling.py and bench_build.py, not asserted by a timed test)
    job = Job("big", params={"catalog": "main"})
    prev = None
    for i in range(1000):
        params = {"catalog": job.params.catalog} | ({"rows": prev.values.rows} if prev is not None else {})
        prev = job.notebook(f"t{i}", "/x", params=params, depends_on=[prev] if prev else None,
                            values={"rows": int})
    assert diags(job) == []