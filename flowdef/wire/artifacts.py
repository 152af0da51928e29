"""The files a task kind's payload refers to, which ``compile`` writes for review and ``apply`` uploads.

Each kind's entry in :mod:`flowdef.wire.kinds` names one of the functions below (``no_artifacts`` for kinds that
refer to no project file).  Libraries and init scripts are not kinds: :func:`flowdef.compile.compiler.artifacts`
adds them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol

from flowdef._frozen import frozen
from flowdef.model.tasks import DbtTask, NotebookTask, PythonFileTask
from flowdef.wire.tasks import EXTERNAL, notebook_path, sql_workspace_path, workspace_path

_DBT_SKIP = {"target", "dbt_packages", "logs", "__pycache__"}


@frozen
class Artifact:
    """A file the payload needs in the workspace: uploaded as a workspace ``file`` or a ``notebook``."""

    workspace_path: str
    kind: str  # "file" | "notebook"
    source: Path | None = None  # a local file
    content: bytes | None = None  # generated content

    def data(self) -> bytes:
        return self.content if self.content is not None else self.source.read_bytes()  # type: ignore[union-attr]


class ArtifactContext(Protocol):
    """What the compiler hands a kind's artifacts function."""

    root: Path  # the project root
    sql: dict[str, str]  # task key -> rendered SQL

    def runtime(self) -> list[Artifact]:
        """The flowdef runtime and every project pipeline file (what a function task imports on the cluster)."""
        ...


# (job, task, kind, target, ctx) -> artifacts; the kind parameter is each function's own kind class
KindArtifacts = Callable[..., list[Artifact]]


def no_artifacts(job, task, kind, target, ctx) -> list[Artifact]:
    return []


def function_artifacts(job, task, kind, target, ctx: ArtifactContext) -> list[Artifact]:
    return ctx.runtime()


def python_file_artifacts(job, task, kind: PythonFileTask, target, ctx: ArtifactContext) -> list[Artifact]:
    if kind.path.startswith(EXTERNAL) or job.git is not None:
        return []
    return [Artifact(workspace_path(target, kind.path), "file", ctx.root / kind.path)]


def notebook_artifacts(job, task, kind: NotebookTask, target, ctx: ArtifactContext) -> list[Artifact]:
    if kind.path.startswith("/") or job.git is not None:
        return []
    return [Artifact(notebook_path(target, kind.path), "notebook", ctx.root / kind.path)]


def sql_file_artifacts(job, task, kind, target, ctx: ArtifactContext) -> list[Artifact]:
    if task.key not in ctx.sql:
        return []
    return [Artifact(sql_workspace_path(job, task, target), "file", content=ctx.sql[task.key].encode("utf-8"))]


def dbt_artifacts(job, task, kind: DbtTask, target, ctx: ArtifactContext) -> list[Artifact]:
    directory = kind.project_directory
    if not directory or directory.startswith("/") or job.git is not None:
        return []
    base = ctx.root / directory
    return [Artifact(workspace_path(target, (Path(directory) / file.relative_to(base)).as_posix()), "file", file)
            for file in _dbt_files(base)]


def _dbt_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not any(part in _DBT_SKIP or part.startswith(".") for part in p.relative_to(root).parts)
    )
