"""The shared options of the task methods: typed by a TypedDict per method (``**options: Unpack[...]``), refused
at run time when a method does not take one (FD602, at the user's line), passed on only when given."""

from __future__ import annotations

import pytest

from flowdef import Environment, Job
from flowdef.dsl.declare import CodeOptions, ComputeOptions, TaskOptions, options_of
from flowdef.errors import DefinitionError


def test_an_option_a_method_does_not_take_is_refused_at_the_line():
    job = Job("j")
    with pytest.raises(DefinitionError, match=r"Job.sql\(\) got an unexpected keyword argument 'compute'") as exc:
        job.sql("s", "s.sql", compute=Environment("e"))
    assert exc.value.code == "FD602" and exc.value.location.file == __file__
    with pytest.raises(DefinitionError, match=r"Job.task\(\) got an unexpected keyword argument 'retries'"):
        job.task(retries=3)
    with pytest.raises(DefinitionError, match=r"ForEachHandle.pipeline\(\) got an unexpected keyword argument"):
        job.for_each("fe", inputs=["a"]).pipeline("p", "id", values=["n"])
    assert [h.key for h in job.tasks] == ["fe"]  # nothing half-declared


def test_the_options_given_reach_the_task():
    job = Job("j", compute=Environment("e"))
    a = job.notebook("a", "nb", retry=2, timeout=60, values={"n": int}, disabled=False, depends_on=None)
    job.sql("b", "b.sql", depends_on=[a], description="d", run_if="ALL_DONE")
    model = job.to_model()
    first, second = model.tasks
    assert first.retry is not None and first.retry.max_retries == 2
    assert (first.timeout_seconds, first.values, first.depends_on) == (60, (("n", "int"),), ())
    assert (second.depends_on[0].task_key, second.description, second.run_if) == ("a", "d", "ALL_DONE")


def test_each_method_takes_the_options_of_its_typeddict():
    assert options_of(Job.sql) == TaskOptions.__optional_keys__
    assert options_of(Job.dbt) == ComputeOptions.__optional_keys__
    assert options_of(Job.notebook) == options_of(Job.task) == CodeOptions.__optional_keys__
    assert options_of(Job.raw_task) == CodeOptions.__optional_keys__ - {"extra"}
    assert options_of(Job.condition) == {"depends_on", "run_if", "description", "disabled", "extra"}
    assert "retry" not in options_of(Job.for_each) and "timeout" in options_of(Job.for_each)
