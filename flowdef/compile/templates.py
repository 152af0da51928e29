"""SQL templates: the one module that imports jinja2.

Templates under ``sql_templates/`` are rendered per target at compile time with ``StrictUndefined``.  They see:

- ``target`` (the target name), ``job`` (``job.name``, ``job.key``), ``task`` (``task.key``);
- ``params``: the job parameters' *compile-time* defaults for the target (use sparingly: run-time overrides of a
  job parameter do not reach text rendered at compile time — prefer ``:name`` markers);
- the target's ``vars`` and the task's ``vars=...`` as top-level names;
- ``param(name)`` which writes the run-time marker ``:name``.

Run-time values reach the SQL as Databricks named parameter markers: ``:catalog``, ``IDENTIFIER(:catalog || '.t')``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes

from flowdef._location import Location
from flowdef.load.config import ProjectConfig, Target
from flowdef.model.spec import JobSpec, TaskSpec
from flowdef.model.tasks import SqlFileTask

_ENVS: dict[str, jinja2.Environment] = {}


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs, like Python's own .pyc files (jinja2 checks each entry against the
    template's source checksum and its own version).  ``FLOWDEF_NO_CACHE=1`` turns it off; an unwritable
    cache folder just means no cache."""
    if os.environ.get("FLOWDEF_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "flowdef", "jinja")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(folder) if os.access(folder, os.W_OK) else None


def environment(templates_dir: Path) -> jinja2.Environment:
    key = str(templates_dir)
    env = _ENVS.get(key)
    if env is None:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(key),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
            auto_reload=True,
            bytecode_cache=_bytecode_cache(),
        )
        _ENVS[key] = env
    return env


def context(job: JobSpec, task: TaskSpec, target: Target) -> dict[str, Any]:
    kind = task.kind
    assert isinstance(kind, SqlFileTask)
    overrides = target.params_dict
    params = {p.name: overrides.get(p.name, p.default) for p in job.params}
    ctx: dict[str, Any] = {}
    ctx.update(dict(target.vars))
    ctx.update(dict(kind.template_vars))
    ctx.update(
        target=target.name,
        job={"name": job.name, "key": job.key},
        task={"key": task.key},
        params=params,
        param=lambda name: f":{name}",
    )
    return ctx


class TemplateProblem(Exception):
    def __init__(self, code: str, message: str, location: Location | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.location = location


def template_path(config: ProjectConfig, template: str) -> Path:
    return config.templates_dir / template


def render(config: ProjectConfig, job: JobSpec, task: TaskSpec, target: Target) -> str:
    """Render one SQL task's template; raise :class:`TemplateProblem` (all problems are listed by ``check``)."""
    problems = check(config, job, task, target)
    if problems:
        raise problems[0]
    return _render(config, job, task, target)


def _render(config, job, task, target) -> str:
    env = environment(config.templates_dir)
    kind = task.kind
    assert isinstance(kind, SqlFileTask)
    return env.get_template(kind.template).render(context(job, task, target))


def check(config: ProjectConfig, job: JobSpec, task: TaskSpec, target: Target) -> list[TemplateProblem]:
    kind = task.kind
    assert isinstance(kind, SqlFileTask), kind
    path = template_path(config, kind.template)
    if not path.is_file():
        available = sorted(str(p.relative_to(config.templates_dir)) for p in config.templates_dir.rglob("*.sql")) \
            if config.templates_dir.is_dir() else []
        import difflib

        close = difflib.get_close_matches(kind.template, available, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return [TemplateProblem(
            "FD401",
            f"SQL template {kind.template!r} not found in {config.templates_dir}{hint}",
            task.location,
        )]
    env = environment(config.templates_dir)
    source = path.read_text(encoding="utf-8")
    try:
        ast = env.parse(source, name=kind.template, filename=str(path))
    except jinja2.TemplateSyntaxError as exc:
        return [TemplateProblem("FD403", f"template syntax error: {exc.message}", Location(str(path), exc.lineno))]
    ctx = context(job, task, target)
    problems: list[TemplateProblem] = []
    undeclared = meta.find_undeclared_variables(ast) - set(ctx) - set(env.globals)
    # `{{ x | default(...) }}` declares x as optional
    optional = {
        f.node.name for f in ast.find_all(nodes.Filter)
        if f.name in ("default", "d") and isinstance(f.node, nodes.Name)
    }
    undeclared -= optional
    if undeclared:
        first_line: dict[str, int] = {}
        for node in ast.find_all(nodes.Name):
            if node.name in undeclared and node.ctx == "load":
                first_line.setdefault(node.name, node.lineno)
        for name in sorted(undeclared):
            problems.append(TemplateProblem(
                "FD402",
                f"template variable {name!r} is not declared; pass it with job.sql(..., vars={{{name!r}: ...}}) or "
                f"the target's vars, or use the run-time marker :{name} for a job parameter",
                Location(str(path), first_line.get(name, 1)),
            ))
        return problems
    try:
        # get_template compiles once per process (the loader caches it; auto_reload notices edits), so
        # compile's render() after validation does not compile the template again
        rendered = env.get_template(kind.template).render(ctx)
    except jinja2.UndefinedError as exc:
        line = _template_line(exc, path) or 1
        return [TemplateProblem("FD402", f"template error: {exc.message}", Location(str(path), line))]
    except jinja2.TemplateError as exc:
        return [TemplateProblem("FD403", f"template error: {exc}", Location(str(path), _template_line(exc, path) or 1))]
    declared = job.param_names() | {k for k, _ in kind.parameters}
    for name, offset in sql_markers(rendered):
        if name not in declared:
            line = _source_line(source, ":" + name) or rendered.count("\n", 0, offset) + 1
            problems.append(TemplateProblem(
                "FD404",
                f"SQL parameter marker :{name} is neither a job parameter nor a task parameter "
                f"(declared: {', '.join(sorted(declared)) or 'none'}); declare it in Job(params=...) or "
                "job.sql(..., params=...)",
                Location(str(path), line),
            ))
    return problems


def _template_line(exc: Exception, path: Path) -> int | None:
    """The template line that failed: jinja2 rewrites the traceback so the template's frames carry the template's
    file name and line numbers."""
    import traceback

    for frame, lineno in reversed(list(traceback.walk_tb(exc.__traceback__))):
        if frame.f_code.co_filename in (str(path), "<template>"):
            return lineno
    return getattr(exc, "lineno", None)


def _source_line(source: str, needle: str) -> int | None:
    for i, line in enumerate(source.splitlines(), 1):
        if re.search(re.escape(needle) + r"(?![A-Za-z0-9_])", line):
            return i
    return None


# the marker scanner is its own module (the Databricks SQL colon grammar: casts, JSON paths, ${var}, markers)
from flowdef.compile.sqlmarkers import sql_markers  # noqa: E402  (re-exported: templates.sql_markers)
