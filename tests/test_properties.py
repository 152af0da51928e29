"""Property tests: random *valid* jobs validate clean, compile, round-trip through the SDK losslessly and satisfy the
bundle JSON schema; random *mutations* that break one rule are caught with that rule's code.

A job is drawn as a plan (plain data: task kinds, fan-in/fan-out dependencies, run_if values, job parameters,
task-value references to ancestors, condition branches, for-each loops, a trigger) and built through the public
DSL, exactly as a pipeline module would.  Bounded: ~100 examples per property, no deadline.
"""

from __future__ import annotations

import json
import random

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flowdef import (
    INPUT, Continuous, Cron, Environment, FileArrival, Job, JobCompletion, Periodic, TableUpdate,
)
from flowdef.load.config import load_config
from flowdef.load.loader import LoadedProject
from flowdef.model.spec import Dependency, Param
from flowdef.model.tasks import ConditionTask, ForEachTask, NotebookTask
from flowdef.validate import validate_project
from tests.conftest import FIXTURES

GOOD = FIXTURES / "good"
CONFIG = load_config(path=GOOD / "flowdef.toml")
TARGET = CONFIG.target("dev")
SERVERLESS = Environment("default")
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KINDS = ("notebook", "python_file", "function", "sql", "condition", "for_each")
SUCCESS_RUN_IF = ("ALL_SUCCESS", "AT_LEAST_ONE_SUCCESS", "NONE_FAILED", "ALL_DONE")


def task_function(ctx):  # module level: function tasks are imported by module and name
    ctx.task_values.set("v", 1)


# ----------------------------------------------------------------------------------------------------------------
# plans


@st.composite
def plans(draw):
    n = draw(st.integers(1, 18))
    tasks = []
    for i in range(n):
        kind = draw(st.sampled_from(KINDS)) if i else draw(st.sampled_from(KINDS[:4]))
        deps = sorted(draw(st.sets(st.integers(0, i - 1), max_size=min(i, 4)))) if i else []
        tasks.append({
            "kind": kind,
            "deps": deps,
            "branch": draw(st.sampled_from([None, "true", "false"])),  # used when a dep is a condition task
            "run_if": draw(st.sampled_from((None,) + SUCCESS_RUN_IF + ("AT_LEAST_ONE_FAILED", "ALL_FAILED"))),
            "ref": draw(st.integers(0, 10_000)),  # picks an ancestor whose value is read (if any)
            "param": draw(st.integers(0, 10)),
            "numeric": draw(st.booleans()),
            "inputs": draw(st.sampled_from(["literal", "param", "value"])),
            "retries": draw(st.sampled_from([None, 0, 2])),
        })
    trigger = draw(st.sampled_from(["none", "cron", "periodic", "file", "table", "continuous", "completion"]))
    extra_params = draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), max_size=3, unique=True))
    return {"tasks": tasks, "trigger": trigger, "params": extra_params}


def ancestors_of(plan) -> list[set[int]]:
    out: list[set[int]] = []
    for t in plan["tasks"]:
        acc: set[int] = set()
        for d in t["deps"]:
            acc |= {d} | out[d]
        out.append(acc)
    return out


def build(plan) -> Job:
    params = {"catalog": "claims_dev", "since": "2024-01-01", "regions": '["eu","us"]'}
    for name in plan["params"]:
        params.setdefault(name, f"value_{name}")
    names = sorted(params)
    # the fixture config's prod target overrides db_password, and every target is checked on every run
    params.setdefault("db_password", "{{secrets/claims/db_password}}")
    trigger = {
        "none": None,
        "cron": Cron.daily(at="03:15", timezone="Europe/Berlin"),
        "periodic": Periodic(6, "HOURS"),
        "file": FileArrival("/Volumes/{{job.parameters.catalog}}/landing/in/", min_time_between_triggers=120),
        "table": TableUpdate(["{{job.parameters.catalog}}.bronze.claims"], wait_after_last_change=60),
        "continuous": Continuous(),
        "completion": JobCompletion([42], if_status="DONE"),
    }[plan["trigger"]]
    job = Job("generated", params=params, trigger=trigger)
    ancestry = ancestors_of(plan)
    handles: list = []
    kinds = [t["kind"] for t in plan["tasks"]]
    for i, t in enumerate(plan["tasks"]):
        key = f"t{i}"
        depends = []
        for d in t["deps"]:
            if kinds[d] == "condition" and t["branch"]:
                depends.append(getattr(handles[d], t["branch"]))
            else:
                depends.append(handles[d])
        # run_if: failure handlers only where an upstream can fail (no warning); none on roots
        run_if = t["run_if"] if t["deps"] else None
        if run_if in ("AT_LEAST_ONE_FAILED", "ALL_FAILED"):
            can_fail = [kinds[d] != "condition" for d in t["deps"]]
            if not (all(can_fail) if run_if == "ALL_FAILED" else any(can_fail)):
                run_if = "ALL_DONE"
        producers = sorted(a for a in ancestry[i] if kinds[a] not in ("condition", "for_each"))
        value = handles[producers[t["ref"] % len(producers)]].values.v if producers else None
        param_ref = getattr(job.params, names[t["param"] % len(names)])
        common = {"depends_on": depends or None, "run_if": run_if}
        if t["kind"] == "notebook":
            p = {"p": param_ref, "run": "{{job.run_id}}"} | ({"v": value} if value is not None else {})
            h = job.notebook(key, "/Workspace/Shared/gen/nb", params=p, values={"v": int}, retry=t["retries"],
                             **common)
        elif t["kind"] == "python_file":
            argv = {"catalog": param_ref} | ({"v": value} if value is not None else {})
            h = job.python_file(key, "scripts/ingest.py", params=argv, compute=SERVERLESS, values={"v": int},
                                **common)
        elif t["kind"] == "function":
            h = job.task(key=key, compute=SERVERLESS, values={"v": int}, params={"p": param_ref},
                         **common)(task_function)
        elif t["kind"] == "sql":
            p = {"v": value} if value is not None else None
            h = job.sql(key, "silver/enrich.sql", params=p, **common)
        elif t["kind"] == "condition":
            if t["numeric"] and value is not None:
                h = job.condition(key, value, ">=", 0, **common)
            else:
                h = job.condition(key, param_ref, "==", "prod", **common)
        else:
            if t["inputs"] == "value" and value is not None:
                inputs = value
            elif t["inputs"] == "param":
                inputs = job.params.regions
            else:
                inputs = ["eu", "us", "br"]
            h = job.for_each(key, inputs=inputs, concurrency=2, **common).notebook(
                f"{key}_each", "/Workspace/Shared/gen/each", params={"item": INPUT, "p": param_ref})
        handles.append(h)
    return job


def validate(model):
    project = LoadedProject(config=CONFIG, jobs=(model,), diagnostics=())
    return validate_project(project, TARGET)


def codes(model) -> set[str]:
    return {d.code for d in validate(model)}


# ----------------------------------------------------------------------------------------------------------------
# the bundle JSON schema (flowdef.jobsapi.schema when present, else a local loader), skipped when the file is absent


def _schema_checker():
    try:
        from flowdef.jobsapi import schema as fs
    except ImportError:  # pragma: no cover - the module ships with flowdef
        fs = None
    if fs is not None and hasattr(fs, "check_payload"):
        loaded = fs.load()
        if loaded is None:
            return None
        return lambda payload: [f"{p.path}: {p.message}" for p in fs.check_payload(payload, loaded)[0]]
    return _local_schema_checker()


def _local_schema_checker():
    """Strip the ``${var}`` interpolation branches (their ``\\p{L}`` patterns are not Python regexes) and validate
    against ``resources.Job``."""
    from pathlib import Path

    import jsonschema

    path = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "bundle_jsonschema.json"
    if not path.is_file():
        path = Path("/work/shared/schemas/bundle_jsonschema.json")
    if not path.is_file():
        return None

    def strip(node):
        if isinstance(node, dict):
            if "oneOf" in node and any("${" in json.dumps(b) for b in node["oneOf"]):
                real = [b for b in node["oneOf"] if "${" not in json.dumps(b)]
                rest = {k: v for k, v in node.items() if k != "oneOf"}
                return strip({**rest, **real[0]}) if len(real) == 1 else strip({**rest, "oneOf": real})
            return {k: strip(v) for k, v in node.items()}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    defs = strip(json.loads(path.read_text())["$defs"])
    validator = jsonschema.Draft202012Validator(
        {"$ref": "#/$defs/github.com/databricks/cli/bundle/config/resources.Job", "$defs": defs},
        format_checker=None,
    )
    return lambda payload: [e.message for e in validator.iter_errors(json.loads(json.dumps(payload)))]


_SCHEMA = _schema_checker()


# ----------------------------------------------------------------------------------------------------------------
# valid jobs


@SETTINGS
@given(plans())
def test_random_valid_jobs_validate_clean_compile_and_round_trip(plan):
    from databricks.sdk.service.jobs import JobSettings

    from flowdef.compile.compiler import compile_job

    model = build(plan).to_model("generated")
    diags = validate(model)
    assert diags == [], [f"{d.code} {d.message}" for d in diags]
    payload = compile_job(model, TARGET, CONFIG).payload
    plain = json.loads(json.dumps(payload))
    assert JobSettings.from_dict(plain).as_dict() == plain
    if _SCHEMA is not None:
        assert _SCHEMA(plain) == []


def test_the_schema_file_is_used_when_present():
    if _SCHEMA is None:
        pytest.skip("no bundle schema file")
    assert _SCHEMA({"name": "x", "tasks": [{"task_key": "a", "run_if": "all_done"}]})  # lower-case enum rejected


# ----------------------------------------------------------------------------------------------------------------
# mutations: one rule broken, its code reported


def _task_index(model, seed: int, pred=lambda t: True) -> int | None:
    candidates = [i for i, t in enumerate(model.tasks) if pred(t)]
    return candidates[seed % len(candidates)] if candidates else None


def _with_task(model, i, task):
    tasks = list(model.tasks)
    tasks[i] = task
    return attrs.evolve(model, tasks=tuple(tasks))


def _add_dep(model, i, key, outcome=None):
    t = model.tasks[i]
    return _with_task(model, i, attrs.evolve(t, depends_on=t.depends_on + (Dependency(key, outcome),)))


MUTATIONS = {}


def mutation(code):
    def register(fn):
        MUTATIONS[fn.__name__] = (code, fn)
        return fn

    return register


@mutation("FD101")
def back_edge(model, seed):
    with_deps = [i for i, t in enumerate(model.tasks) if t.depends_on]
    assume(with_deps)
    i = with_deps[seed % len(with_deps)]
    upstream = model.tasks[i].depends_on[0].task_key
    j = next(k for k, t in enumerate(model.tasks) if t.key == upstream)
    return _add_dep(model, j, model.tasks[i].key)  # upstream now also waits for its downstream


@mutation("FD102")
def self_dependency(model, seed):
    i = _task_index(model, seed)
    return _add_dep(model, i, model.tasks[i].key)


@mutation("FD103")
def missing_dependency(model, seed):
    i = _task_index(model, seed)
    return _add_dep(model, i, model.tasks[i].key + "_typo")


@mutation("FD104")
def duplicate_key(model, seed):
    i = _task_index(model, seed)
    return attrs.evolve(model, tasks=model.tasks + (attrs.evolve(model.tasks[i], depends_on=()),))


@mutation("FD105")
def bad_key(model, seed):
    i = _task_index(model, seed)
    old = model.tasks[i].key
    tasks = [attrs.evolve(t, key=old + " v2") if k == i else t for k, t in enumerate(model.tasks)]
    return attrs.evolve(model, tasks=tuple(tasks))


@mutation("FD107")
def misspelled_run_if(model, seed):
    i = _task_index(model, seed)
    bad = random.Random(seed).choice(["all_done", "ALL_SUCCES", "ON_FAILURE", "none_failed", "ANY"])
    return _with_task(model, i, attrs.evolve(model.tasks[i], run_if=bad))


@mutation("FD201")
def value_of_non_ancestor(model, seed):
    i = _task_index(model, seed)
    reader = attrs.evolve(model.tasks[0], key="zz_reader", depends_on=(), run_if=None,
                          kind=NotebookTask("/Workspace/x", {"v": "{{tasks." + model.tasks[i].key + ".values.v}}"}))
    return attrs.evolve(model, tasks=model.tasks + (reader,))


@mutation("FD202")
def undeclared_parameter(model, seed):
    reader = attrs.evolve(model.tasks[0], key="zz_reader", depends_on=(), run_if=None,
                          kind=NotebookTask("/Workspace/x", {"p": "{{job.parameters.not_declared}}"}))
    return attrs.evolve(model, tasks=model.tasks + (reader,))


@mutation("FD204")
def malformed_reference(model, seed):
    text = random.Random(seed).choice(["{{job.run_id", "job.id}}", "{{job.parameters.a b}}", "{{}}",
                                       "{{ {{job.id}} }}", "{{secrets/only_scope}}"])
    reader = attrs.evolve(model.tasks[0], key="zz_reader", depends_on=(), run_if=None,
                          kind=NotebookTask("/Workspace/x", {"p": text}))
    return attrs.evolve(model, tasks=model.tasks + (reader,))


@mutation("FD206")
def bad_parameter_name(model, seed):
    return attrs.evolve(model, params=model.params + (Param("bad name", "x"),))


@mutation("FD209")
def input_outside_for_each(model, seed):
    reader = attrs.evolve(model.tasks[0], key="zz_reader", depends_on=(), run_if=None,
                          kind=NotebookTask("/Workspace/x", {"p": "{{input}}"}))
    return attrs.evolve(model, tasks=model.tasks + (reader,))


@mutation("FD210")
def literal_secret(model, seed):
    secret = random.Random(seed).choice([
        "dapi" + "0123456789abcdef" * 2, "AKIAIOSFODNN7EXAMPLE", "ghp_" + "x1" * 18,
        "postgres://etl:pw@db/claims", "-----BEGIN PRIVATE KEY-----",
    ])
    return attrs.evolve(model, params=model.params + (Param("conn", secret),))


@mutation("FD211")
def bad_for_each_inputs(model, seed):
    i = _task_index(model, seed, lambda t: isinstance(t.kind, ForEachTask))
    assume(i is not None)
    text = random.Random(seed).choice(["eu,us", '{"a": 1}', "[1, 2", "[" + "1," * 6000 + "1]"])
    t = model.tasks[i]
    return _with_task(model, i, attrs.evolve(t, kind=attrs.evolve(t.kind, inputs=text)))


@mutation("FD110")
def outcome_on_non_condition(model, seed):
    i = _task_index(model, seed, lambda t: not isinstance(t.kind, ConditionTask))
    assume(i is not None)
    reader = attrs.evolve(model.tasks[0], key="zz_reader", depends_on=(Dependency(model.tasks[i].key, "true"),),
                          run_if=None, kind=NotebookTask("/Workspace/x"))
    return attrs.evolve(model, tasks=model.tasks + (reader,))


@mutation("FD301")
def two_triggers(model, seed):
    return attrs.evolve(model, triggers=(Periodic(1, "DAYS"), Continuous()))


@SETTINGS
@given(plans(), st.sampled_from(sorted(MUTATIONS)), st.integers(0, 10_000))
def test_one_broken_rule_is_reported_with_its_code(plan, name, seed):
    code, mutate = MUTATIONS[name]
    model = mutate(build(plan).to_model("generated"), seed)
    found = codes(model)
    assert code in found, (name, sorted(found))


def test_every_mutation_is_exercised():
    assert len(MUTATIONS) >= 12
    assert {code for code, _ in MUTATIONS.values()} >= {"FD101", "FD103", "FD104", "FD201", "FD107"}


@SETTINGS
@given(plans())
def test_validation_is_deterministic(plan):
    """The same model gives the same diagnostics, in the same order, every time (caches included)."""
    model = build(plan).to_model("generated")
    broken = MUTATIONS["misspelled_run_if"][1](model, len(plan["tasks"]))
    for m in (model, broken):
        first = validate(m)
        assert validate(m) == first
