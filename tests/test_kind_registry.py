"""Every task kind has one complete entry in flowdef.wire.kinds, and every consumer reads it.

Fails when a kind class is added without an entry, when an entry lacks a part (wire field, encoder, decoder,
compute flag, artifacts, rules, DSL method), or when the entries drift from the Jobs API's task fields.
"""

from __future__ import annotations

import typing

from flowdef import Job
from flowdef.jobsapi import fields
from flowdef.model import tasks as model_tasks
from flowdef.model.tasks import KIND_TYPES, TaskKind
from flowdef.wire import kinds


def test_every_kind_class_has_exactly_one_entry():
    assert set(typing.get_args(TaskKind)) == set(KIND_TYPES)
    models = [e.model for e in kinds.ENTRIES]
    assert sorted(m.__name__ for m in models) == sorted(m.__name__ for m in KIND_TYPES)
    assert len(models) == len(set(models))


def test_every_kind_class_of_the_model_module_is_in_the_union():
    """A new ``*Task`` class in flowdef.model.tasks that is not a kind would be surprising: name it otherwise."""
    classes = {obj for name, obj in vars(model_tasks).items()
               if isinstance(obj, type) and name.endswith("Task") and obj.__module__ == model_tasks.__name__}
    assert classes == set(KIND_TYPES)


def test_every_entry_is_complete():
    for entry in kinds.ENTRIES:
        name = entry.model.__name__
        assert callable(entry.encode), name
        assert callable(entry.artifacts), name
        assert callable(entry.rules), name
        assert isinstance(entry.needs_compute, bool), name
        assert entry.dsl, name
        if entry.model is model_tasks.RawTask:
            assert entry.field is None and entry.decode is None  # anything undecodable becomes a raw task
        else:
            assert entry.field and entry.field.endswith("_task"), name
            assert callable(entry.decode), name


def test_every_entry_has_a_dsl_method():
    for entry in kinds.ENTRIES:
        for method in entry.dsl:
            assert callable(getattr(Job, method, None)), f"Job.{method} missing for {entry.model.__name__}"


def test_wire_fields_are_jobs_api_task_fields():
    assert kinds.WIRE_FIELDS <= fields.field_names(fields.TASK)
    for field, entries in kinds.BY_FIELD.items():
        assert all(e.field == field for e in entries)


def test_needs_compute_is_read_from_the_registry_only():
    """The model classes carry no copy of the compute flag (one entry per kind, nothing to keep in step)."""
    for cls in KIND_TYPES:
        assert not hasattr(cls, "needs_compute"), cls.__name__
    assert kinds.needs_compute(model_tasks.PythonFileTask("x.py"))
    assert not kinds.needs_compute(model_tasks.NotebookTask("/x"))
    assert not kinds.needs_compute(object())


def test_unknown_kind_values_are_refused_by_the_encoder():
    class Odd(model_tasks.NotebookTask):  # a subclass is not the kind: exact types only
        pass

    try:
        kinds.entry(Odd("/x"))
    except TypeError as exc:
        assert "unknown task kind" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a subclass must not pass for its base kind")


def test_every_kind_has_rules_that_run(tmp_path):
    """No kind is skipped by validation: a task of each kind reaches its entry's rules (no 'quiet' allow-list)."""
    from flowdef.load.config import ProjectConfig, Target
    from flowdef.model.spec import JobSpec, TaskSpec
    from flowdef.validate import structure
    from flowdef.validate.context import JobContext

    seen: list[type] = []
    originals = {}
    for entry in kinds.ENTRIES:
        originals[entry.model] = entry

    def spy(entry):
        def rules(ctx, task, kind, path, location):
            seen.append(type(kind))
            return entry.rules(ctx, task, kind, path, location)
        return rules

    import dataclasses
    patched = {m: dataclasses.replace(e, rules=spy(e)) for m, e in originals.items()}
    samples = [
        model_tasks.FunctionTask("m", "f"), model_tasks.PythonFileTask("/x.py"), model_tasks.NotebookTask("/nb"),
        model_tasks.SqlFileTask("q.sql"), model_tasks.SqlQueryTask("q"), model_tasks.SqlAlertTask("a"),
        model_tasks.SqlDashboardTask("d"), model_tasks.PythonWheelTask("p", "e"), model_tasks.SparkJarTask("C"),
        model_tasks.DbtTask(["dbt run"], "/d"), model_tasks.PipelineTask(pipeline_id="p"),
        model_tasks.RunJobTask(job_id=1), model_tasks.ConditionTask("EQUAL_TO", "a", "b"),
        model_tasks.ForEachTask("[1]", TaskSpec("inner", model_tasks.NotebookTask("/nb"))),
        model_tasks.DashboardTask("d"), model_tasks.AlertTask("a"), model_tasks.PowerBiTask("c"),
        model_tasks.CleanRoomNotebookTask("r", "n"), model_tasks.RawTask((("ai_runtime_task", {}),)),
    ]
    assert {type(k) for k in samples} == set(KIND_TYPES)
    job = JobSpec("j", "j", tasks=tuple(TaskSpec(f"t{i}", k) for i, k in enumerate(samples)))
    original_table = dict(kinds.BY_MODEL)
    kinds.BY_MODEL.update(patched)
    try:
        structure.check(JobContext(job, Target("t"), ProjectConfig(tmp_path, "p")))
    finally:
        kinds.BY_MODEL.clear()
        kinds.BY_MODEL.update(original_table)
    assert set(seen) == set(KIND_TYPES)


def test_a_kind_that_needs_compute_lets_its_method_take_compute():
    """Each DSL method types its shared options with one TypedDict of flowdef.dsl.declare (``**options:
    Unpack[...]``); a kind that must name compute needs a method that takes ``compute=``."""
    import inspect

    from flowdef.dsl import declare

    for entry in kinds.ENTRIES:
        for method in entry.dsl:
            if method in ("condition", "for_each", "raw_task"):
                continue  # their options are spelled out: a condition and a for-each task run no code
            options = [p for p in inspect.signature(getattr(Job, method)).parameters.values()
                       if p.kind is p.VAR_KEYWORD]
            assert options, f"Job.{method} takes no **options"
            typed = str(options[0].annotation).removeprefix("Unpack[").removesuffix("]")
            takes = getattr(declare, typed)
            assert "depends_on" in takes.__optional_keys__, method
            assert ("compute" in takes.__optional_keys__) >= entry.needs_compute, method


# ---- where each kind's strings are (KindEntry.strings): walked by the reference and secret rules

_NOT_STRINGS = {"bool", "bool | None", "int | None", "int", "TaskSpec | None"}  # numbers, flags, a nested task


def _sample(cls: type, counter: list[int]):
    """An instance of ``cls`` with a distinct marker (``/m<n>``: an absolute path, kept as is by the encoders) in
    every place its field annotations allow a string, every other field at its default."""
    import attrs

    def marker() -> str:
        counter[0] += 1
        return f"/m{counter[0]}"

    values = {}
    for field in attrs.fields(cls):
        annotation = str(field.type)
        if annotation in _NOT_STRINGS:
            if field.default is attrs.NOTHING:
                values[field.name] = None  # ForEachTask.task: a nested task is walked as a task of its own
            continue
        if annotation in ("str", "str | None"):
            values[field.name] = marker()
        elif annotation.startswith("tuple[tuple[str,"):
            values[field.name] = ((f"n{counter[0]}", marker()), (f"n{counter[0]}x", marker()))
        elif annotation in ("tuple", "tuple[str, ...]"):
            values[field.name] = (marker(), marker())
        elif annotation == "tuple[Subscriber, ...]":
            values[field.name] = (model_tasks.Subscriber(user_name=marker()),
                                  model_tasks.Subscriber(destination_id=marker()))
        elif annotation == "PowerBiModel | None":
            values[field.name] = model_tasks.PowerBiModel(marker(), marker(), storage_mode=marker(),
                                                          authentication_method=marker())
        elif annotation == "tuple[PowerBiTable, ...]":
            values[field.name] = (model_tasks.PowerBiTable(marker(), marker(), marker(), storage_mode=marker()),)
        elif cls is model_tasks.RawTask:
            values[field.name] = (("x_task", {"a": marker(), "b": [marker()]}), ("timeout_seconds", 5))
        else:  # pragma: no cover - a new field type: teach this sample about it
            raise AssertionError(f"{cls.__name__}.{field.name}: no sample for {annotation}")
    return cls(**values)


def test_every_field_of_a_kind_is_among_its_strings_or_said_to_be_something_else():
    import attrs

    for entry in kinds.ENTRIES:
        listed = [f for f, _, _ in entry.strings]
        assert len(listed) == len(set(listed)) and not set(listed) & set(entry.internal), entry.model.__name__
        for field in attrs.fields(entry.model):
            in_strings, internal = field.name in listed, field.name in entry.internal
            plain = str(field.type) in _NOT_STRINGS
            assert in_strings + internal + plain == 1, f"{entry.model.__name__}.{field.name}"


def test_the_reference_rules_walk_every_string_of_every_kind():
    """Every marker in a sample of each kind is found by kind_strings, except those of its internal fields."""
    from flowdef.validate.references import walk
    from flowdef.validate.references import kind_strings

    for entry in kinds.ENTRIES:
        kind = _sample(entry.model, [0])
        every = {v for _, v, _ in walk(kind, "k") if v.startswith("/m")}
        internal = {v for f in entry.internal for _, v, _ in walk(getattr(kind, f), "k") if v.startswith("/m")}
        walked = {v for _, v, _, _ in kind_strings(kind, "tasks.t")}
        assert every - internal <= walked, (entry.model.__name__, sorted(every - internal - walked))
        assert not internal & walked, entry.model.__name__


def test_the_paths_of_a_kinds_strings_are_where_the_payload_holds_them():
    """Each string's path leads to it in the task's compiled JSON (function-task parameters become the entry
    script's ``--param name=value`` arguments, and template variables never reach the payload)."""
    import re

    from flowdef.load.config import Target
    from flowdef.model.spec import JobSpec, TaskSpec
    from flowdef.validate.references import kind_strings, path_text

    target = Target("t", root_path="/Workspace/r", warehouse_id="w")
    for entry in kinds.ENTRIES:
        kind = _sample(entry.model, [0])
        task = TaskSpec("t", kind)
        job = JobSpec("j", "j", tasks=(task,))
        body = entry.encode(job, task, kind, target, lambda *a: {})
        shapes = {f: shape for f, shape, _ in entry.strings}
        for path, value, _, refs in kind_strings(kind, "tasks.t"):
            if not refs or entry.model is model_tasks.FunctionTask:
                continue
            node = body
            for part in re.findall(r"[^.\[\]]+|\[\d+\]", path_text(path).removeprefix("tasks.t.")):
                node = node[int(part[1:-1])] if part.startswith("[") else node[part]
            assert node == value, (entry.model.__name__, path_text(path), shapes)
