"""The synthetic job of the benchmarks: a ``chain``-task chain, then ``fan`` tasks fanning out from its end,
one parameter each (the shape peers.md measures the peers on)."""

from __future__ import annotations

from pathlib import Path

from flowdef import Job
from flowdef.load.config import ProjectConfig, Target

TARGET = Target("bench", root_path="/Workspace/Shared/bench", warehouse_id="w")
CONFIG = ProjectConfig(root=Path.cwd(), project="bench", targets=(TARGET,))


def flowdef_job(chain: int = 500, fan: int = 500) -> Job:
    job = Job("synthetic", params={"catalog": "main"})
    prev = None
    for i in range(chain):
        prev = job.notebook(f"chain_{i}", "/Workspace/nb", params={"i": str(i)},
                            depends_on=[prev] if prev is not None else None)
    end = prev
    for i in range(fan):
        job.notebook(f"fan_{i}", "/Workspace/nb", params={"i": str(i)}, depends_on=[end] if end is not None else None)
    return job


def build_validate_compile(chain: int = 500, fan: int = 500) -> str:
    """Everything a user's CI does with one job, in process: build, validate, compile, serialise (the text
    ``flowdef compile`` writes for the job)."""
    from flowdef.compile.compiler import payload, to_json
    from flowdef.diagnostics import has_errors
    from flowdef.validate import validate

    job = flowdef_job(chain, fan).to_model("bench")
    diags = validate([job], CONFIG, TARGET)
    assert not has_errors(diags), diags[:3]
    return to_json(payload(job, TARGET, CONFIG))


def bundles_as_dict(chain: int = 500, fan: int = 500) -> dict:
    """databricks-bundles (official Python for bundles): build the same job and ``as_dict()`` it."""
    from databricks.bundles.jobs import Job as BJob, NotebookTask, Task, TaskDependency

    tasks = []
    prev = None
    for i in range(chain):
        key = f"chain_{i}"
        tasks.append(Task(
            task_key=key,
            notebook_task=NotebookTask(notebook_path="/Workspace/nb", base_parameters={"i": str(i)}),
            depends_on=[TaskDependency(task_key=prev)] if prev else [],
        ))
        prev = key
    for i in range(fan):
        tasks.append(Task(
            task_key=f"fan_{i}",
            notebook_task=NotebookTask(notebook_path="/Workspace/nb", base_parameters={"i": str(i)}),
            depends_on=[TaskDependency(task_key=prev)] if prev else [],
        ))
    return BJob(name="synthetic", tasks=tasks).as_dict()
