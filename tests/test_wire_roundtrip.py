"""Decoding is the exact inverse of encoding: ``encode(decode(payload)) == payload``.

* every golden payload (tests/golden/**), with its deploy-time substitutions, decodes to a model that encodes
  back to the same JSON — and to *typed* kinds: each task decodes to the kind class it was compiled from, never
  to the raw fallback (only ``job.raw_task`` tasks are raw);
* hypothesis-generated jobs do the same: tasks of every kind with random field values, compute, libraries,
  notifications and health rules, every trigger kind and the job settings, with and without a Git source.
"""

from __future__ import annotations

import json
import string

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowdef.load.config import Target, load_config
from flowdef.load.loader import load
from flowdef.jobsapi import fields
from flowdef.model.compute import Autoscale, ClusterSpec, Environment, ExistingCluster, JobCluster, Library
from flowdef.model.settings import GitSource, Health, HealthRule, Notifications, RunAs, Webhook
from flowdef.model.triggers import (
    Continuous, Cron, FileArrival, JobCompletion, MaintenanceWindow, Periodic, TableUpdate,
)
from flowdef.model.spec import Dependency, JobSpec, Param, Retry, TaskSpec
from flowdef.model.tasks import (
    KIND_TYPES, AlertTask, CleanRoomNotebookTask, ConditionTask, DashboardTask, DbtTask, ForEachTask, FunctionTask,
    NotebookTask, PipelineTask, PowerBiModel, PowerBiTable, PowerBiTask, PythonFileTask, PythonWheelTask, RawTask,
    RunJobTask, SparkJarTask, SqlAlertTask, SqlDashboardTask, SqlFileTask, SqlQueryTask, Subscriber,
)
from flowdef.wire.decode import decode_job
from flowdef.wire.encode import job_payload
from tests.conftest import FIXTURES, ROOT

GOLDEN = ROOT / "tests" / "golden"


def golden_files() -> list[str]:
    return sorted(str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*.json") if not p.name.endswith(".deploy.json"))


def _load(path):
    payload = json.loads(path.read_text(encoding="utf-8"))
    sidecar = path.with_name(path.stem + ".deploy.json")
    deploy_time = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.exists() else {}
    return payload, deploy_time


def _models() -> dict[str, dict[str, JobSpec]]:
    """The model jobs the golden files were compiled from, by golden folder."""
    kinds_config = load_config(path=FIXTURES / "kinds" / "flowdef.toml")
    example = load_config(path=ROOT / "pyproject.toml")
    out = {"kinds": {j.key: j for j in load(kinds_config).jobs}}
    example_jobs = {j.key: j for j in load(example).jobs}
    out["dev"] = out["prod"] = example_jobs
    return out


MODELS = _models()


def encoded_again(payload: dict, deploy_time: dict) -> dict:
    from flowdef.compile.compiler import split_deploy_time

    decoded = decode_job(payload, deploy_time)
    body, again = split_deploy_time(job_payload(decoded.job, decoded.target, decoded.project))
    assert again == deploy_time
    return body


@pytest.mark.parametrize("name", golden_files())
def test_golden_payloads_decode_losslessly_to_typed_kinds(name):
    payload, deploy_time = _load(GOLDEN / name)
    assert encoded_again(payload, deploy_time) == payload
    decoded = decode_job(payload, deploy_time)
    model = MODELS[name.split("/")[0]][decoded.job.key]
    assert [type(t.kind) for t in decoded.job.all_tasks()] == [type(t.kind) for t in model.all_tasks()]
    assert [t.key for t in decoded.job.all_tasks()] == [t.key for t in model.all_tasks()]
    # nothing fell back to raw beyond what the model itself holds raw
    assert sorted(decoded.raw_tasks) == sorted(t.key for t in model.all_tasks() if isinstance(t.kind, RawTask))
    model_raw = sorted([f"{t.key}.{k}" for t in model.all_tasks() for k, _ in t.extra] + [k for k, _ in model.extra])
    assert sorted(decoded.raw_fields) == model_raw


def test_every_kind_is_among_the_golden_payloads():
    seen = set()
    for name in golden_files():
        payload, deploy_time = _load(GOLDEN / name)
        seen |= {type(t.kind) for t in decode_job(payload, deploy_time).job.all_tasks()}
    assert seen == set(KIND_TYPES)


def test_deploy_time_references_decode_to_job_keys_and_pipeline_names():
    payload, deploy_time = _load(GOLDEN / "kinds" / "run_job.json")
    kinds = [t.kind for t in decode_job(payload, deploy_time).job.tasks]
    assert [(k.job_id, k.job_key) for k in kinds] == [(None, "notebook"), (123456789, None), (None, "sql_file")]
    payload, deploy_time = _load(GOLDEN / "kinds" / "pipeline.json")
    names = [t.kind.pipeline_name for t in decode_job(payload, deploy_time).job.tasks]
    assert "claims silver" in names


def test_unknown_shapes_fall_back_to_raw_and_stay_lossless():
    payload = {
        "name": "x", "tags": {"flowdef_job": "x", "flowdef_project": "p", "flowdef_target": "t"},
        "tasks": [
            {"task_key": "a", "ai_runtime_task": {"x": 1}, "max_retries": 1},
            {"task_key": "b", "sql_task": {"file": {"path": "/Shared/q.sql"}, "warehouse_id": "w"}},
            {"task_key": "c", "notebook_task": {"notebook_path": "/nb", "source": "WORKSPACE"}, "disabled": False},
            # flowdef always writes the source of an absolute notebook path: without it, no typed kind fits
            {"task_key": "d", "notebook_task": {"notebook_path": "/nb"}},
        ],
        "performance_target": "PERFORMANCE_OPTIMIZED", "queue": {"enabled": True, "extra": 1},
    }
    decoded = decode_job(payload)
    assert job_payload(decoded.job, decoded.target, decoded.project) == payload
    assert decoded.raw_tasks == ("a", "b", "d")
    assert isinstance(decoded.job.tasks[2].kind, NotebookTask)  # typed kind, "disabled": false kept raw
    assert "c.disabled" in decoded.raw_fields and "performance_target" in decoded.raw_fields
    assert "queue" in decoded.raw_fields


# ----------------------------------------------------------------------------------------------------------------
# hypothesis: every kind with random field values

TEXT = st.text(string.ascii_letters + string.digits + " _-./{}:é", max_size=12)
NAME = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
OPT = st.none() | TEXT
PAIRS = st.lists(st.tuples(NAME, TEXT), max_size=3, unique_by=lambda p: p[0]).map(tuple)
STRS = st.lists(TEXT, max_size=3).map(tuple)
SUBS = st.lists(st.builds(Subscriber, user_name=NAME.map(lambda n: n + "@x.com")) |
                st.builds(Subscriber, destination_id=NAME), max_size=2).map(tuple)
PATH = st.sampled_from(["nb/a.py", "/Workspace/x/nb", "s3://b/k.py", "dbfs:/x.py", "scripts/run.py", "a/b"])


def flat_kinds():
    return st.one_of(
        st.builds(FunctionTask, NAME, NAME, PAIRS),
        st.builds(PythonFileTask, PATH, STRS),
        st.builds(NotebookTask, PATH, PAIRS, OPT),
        st.builds(SqlFileTask, NAME.map(lambda n: n + ".sql"), PAIRS, OPT),
        st.builds(SqlQueryTask, NAME, PAIRS, OPT),
        st.builds(SqlAlertTask, NAME, SUBS, st.booleans(), OPT),
        st.builds(SqlDashboardTask, NAME, SUBS, OPT, st.booleans(), PAIRS, OPT),
        st.builds(PythonWheelTask, NAME, NAME, STRS, st.just(())) | st.builds(PythonWheelTask, NAME, NAME,
                                                                               st.just(()), PAIRS),
        st.builds(SparkJarTask, NAME, STRS),
        st.builds(DbtTask, st.lists(TEXT.map(lambda t: "dbt " + t), min_size=1, max_size=3).map(tuple),
                  st.none() | st.sampled_from(["dbt_proj", "/Workspace/dbt"]), OPT, OPT, OPT, OPT),
        st.builds(PipelineTask, pipeline_id=NAME, full_refresh=st.booleans())
        | st.builds(PipelineTask, pipeline_name=TEXT.filter(bool), full_refresh=st.booleans()),
        st.builds(RunJobTask, job_id=st.integers(1, 2**40), job_parameters=PAIRS)
        | st.builds(RunJobTask, job_key=NAME, job_parameters=PAIRS),
        st.builds(ConditionTask, st.sampled_from(["EQUAL_TO", "GREATER_THAN"]), TEXT, TEXT),
        st.builds(DashboardTask, NAME, OPT, SUBS, OPT, st.booleans()),
        st.builds(AlertTask, NAME, st.none(), OPT, SUBS) | st.builds(AlertTask, st.none(), TEXT, OPT, SUBS),
        st.builds(PowerBiTask, NAME, st.none() | st.builds(
            PowerBiModel, NAME, NAME, storage_mode=st.none() | st.sampled_from(["DIRECT_QUERY", "IMPORT"])),
                  st.lists(st.builds(PowerBiTable, NAME, NAME, NAME), max_size=2).map(tuple), OPT,
                  st.none() | st.booleans()),
        st.builds(CleanRoomNotebookTask, NAME, NAME, PAIRS, OPT),
        st.builds(RawTask, st.just((("python_operator_task", {"main": "pkg.main"}),))),
    )


@st.composite
def task_specs(draw, key: str):
    kind = draw(flat_kinds() | st.builds(
        # the DSL declares no condition task inside a for-each task (ForEachHandle has no .condition)
        ForEachTask, TEXT, st.builds(TaskSpec, st.just(key + "_item"),
                                     flat_kinds().filter(lambda k: not isinstance(k, ConditionTask)),
                                     in_for_each=st.just(True)),
        st.none() | st.integers(1, 50)))
    return TaskSpec(
        key, kind,
        retry=draw(st.none() | st.builds(Retry, st.integers(-1, 5), interval=st.none() | st.floats(0, 600).map(
            lambda f: round(f, 3)), on_timeout=st.booleans())),
        timeout_seconds=draw(st.none() | st.integers(0, 10_000)),
        compute=draw(st.none() | st.just(Environment("default")) | st.builds(ExistingCluster, NAME)),
        description=draw(st.none() | TEXT),
        disabled=draw(st.booleans()),
        run_if=draw(st.none() | st.just("ALL_DONE")),
    )


CLUSTER = st.builds(ClusterSpec, st.just("15.4.x-scala2.12"), num_workers=st.none() | st.integers(0, 8),
                    autoscale=st.none() | st.just(Autoscale(1, 4)), spark_conf=st.just({"spark.x": "1"}),
                    init_scripts=st.lists(st.sampled_from(["/Volumes/a/b/i.sh", "s3://b/i.sh", "/Shared/i.sh"]),
                                          max_size=2).map(tuple))
COMPUTE = (st.none() | st.just(Environment("default", dependencies=("x==1",))) | st.builds(ExistingCluster, NAME)
           | st.builds(JobCluster, st.just("shared"), CLUSTER) | CLUSTER)
LIBRARIES = st.lists(st.sampled_from([Library("pypi", "x==1"), Library("whl", "/Volumes/a/w.whl"),
                                      Library("maven", "a:b:1", exclusions=("c:d",)), Library("jar", "s3://b/j.jar")]),
                     max_size=2, unique=True).map(tuple)
RECIPIENTS = st.lists(NAME.map(lambda n: n + "@x.com") | NAME.map(Webhook), max_size=2).map(tuple)
NOTIFICATIONS = st.none() | st.builds(Notifications, on_failure=RECIPIENTS, on_start=RECIPIENTS,
                                      no_alert_for_skipped_runs=st.none() | st.booleans())
HEALTH = st.none() | st.just(Health((HealthRule("RUN_DURATION_SECONDS", 600),)))
TRIGGERS = st.one_of(
    st.just(()),
    st.builds(Cron, st.just("0 0 6 * * ?"), timezone=st.sampled_from(["UTC", "Europe/Paris"]),
              paused=st.booleans()).map(lambda t: (t,)),
    st.builds(Periodic, st.integers(1, 48), st.sampled_from(["HOURS", "DAYS"])).map(lambda t: (t,)),
    st.builds(FileArrival, st.just("/Volumes/a/b/c/"), min_time_between_triggers=st.none() | st.integers(60, 600),
              paused=st.booleans()).map(lambda t: (t,)),
    st.builds(TableUpdate, st.just(("a.b.c", "a.b.d")), condition=st.sampled_from(["ANY_UPDATED", "ALL_UPDATED"]),
              wait_after_last_change=st.none() | st.integers(60, 600)).map(lambda t: (t,)),
    st.builds(Continuous, task_retry_mode=st.none() | st.just("ON_FAILURE"),
              maintenance_window=st.none() | st.just(MaintenanceWindow(3, "SUNDAY"))).map(lambda t: (t,)),
    st.builds(JobCompletion, st.just(("123", "456")), if_status=st.none() | st.just("FAILED")).map(lambda t: (t,)),
)


@st.composite
def jobs(draw):
    """Jobs of 1-4 tasks of every kind (also used by tests/test_import_files.py)."""
    n = draw(st.integers(1, 4))
    tasks = []
    for i in range(n):
        task = draw(task_specs(f"t{i}"))
        if i:
            task = attrs.evolve(task, depends_on=(Dependency(f"t{i - 1}"),))
        tasks.append(task)
    git = draw(st.none() | st.just(GitSource("https://github.com/a/b", "gitHub", branch="main")))
    params = tuple(Param(n, "v") for n in draw(st.lists(NAME, max_size=2, unique=True)))
    return JobSpec("job", "Job name", tasks=tuple(tasks), params=params, git=git)


@st.composite
def full_jobs(draw):
    """:func:`jobs` with random compute, libraries, notifications and health rules on the tasks, a trigger of
    every kind and the job settings."""
    job = draw(jobs())
    tasks = tuple(attrs.evolve(t, compute=draw(COMPUTE), notifications=draw(NOTIFICATIONS), health=draw(HEALTH),
                               libraries=draw(LIBRARIES)) for t in job.tasks)
    return attrs.evolve(
        job, tasks=tasks, triggers=draw(TRIGGERS),
        description=draw(st.none() | TEXT), max_concurrent_runs=draw(st.none() | st.integers(1, 10)),
        timeout_seconds=draw(st.none() | st.integers(1, 3600)), queue=draw(st.none() | st.booleans()),
        tags=tuple(draw(st.dictionaries(NAME, TEXT, max_size=2)).items()), notifications=draw(NOTIFICATIONS),
        health=draw(HEALTH), run_as=draw(st.none() | st.just(RunAs(service_principal_name="sp-1"))),
        edit_mode=draw(st.none() | st.just("UI_LOCKED")),
        environments=draw(st.just(()) | st.just((Environment("declared"),))),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(full_jobs(), st.sampled_from(["/Workspace/Users/me/.flowdef/p/dev", "/Shared/p"]), st.none() | NAME)
def test_random_tasks_of_every_kind_decode_losslessly(job, root, warehouse):
    from flowdef.compile.compiler import split_deploy_time

    target = Target("dev", root_path=root, warehouse_id=warehouse)
    body, deploy_time = split_deploy_time(job_payload(job, target, "proj"))
    assert encoded_again(body, deploy_time) == body
    decoded = decode_job(body, deploy_time)
    assert [type(t.kind) for t in decoded.job.all_tasks()] == [type(t.kind) for t in job.all_tasks()]
    assert decoded.raw_fields == ()  # every setting, of every task and of the job, decoded to its typed form
    assert fields.check(body, fields.JOB) == []  # and the body has the API's field types
