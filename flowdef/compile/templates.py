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

import functools
import os
import re
import stat
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes

from flowdef._frozen import frozen
from flowdef._location import Location
from flowdef.load.config import ProjectConfig, Target
from flowdef.model.spec import JobSpec, TaskSpec
from flowdef.model.tasks import SqlFileTask

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
    return _environment(str(templates_dir))


@functools.lru_cache(maxsize=None)
def _environment(folder: str) -> jinja2.Environment:
    """One environment per templates folder and process: its loader keeps the compiled templates."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=True,
        bytecode_cache=_bytecode_cache(),
    )


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
    return _template_path(config.root, config.templates, template)


def _folder(config: ProjectConfig) -> str:
    return str(_template_path(config.root, config.templates, ""))


@functools.lru_cache(maxsize=None)
def _template_path(root: Path, folder: str, template: str) -> Path:
    # once per name: pathlib joins cost more than the rest of a check whose template was already analysed
    return root / folder / template if template else root / folder


def render(config: ProjectConfig, job: JobSpec, task: TaskSpec, target: Target) -> str:
    """Render one SQL task's template; raise :class:`TemplateProblem` (all problems are listed by ``check``)."""
    problems = check(config, job, task, target)
    if problems:
        raise problems[0]
    kind = task.kind
    assert isinstance(kind, SqlFileTask)
    path = template_path(config, kind.template)
    version = _file_key(path)
    assert version is not None  # check() found the file
    rendered = _rendered(config, job, task, target, _analyse(_folder(config), kind.template, str(path), *version))
    assert isinstance(rendered, str)  # check() returned no problem, so the render succeeded
    return rendered


@frozen
class _Analysis:
    """What a template file says about itself, independent of any task: worked out once per file and process
    (a monorepo shares a few templates between thousands of tasks; parsing each per task dominated validation)."""

    source: str
    syntax_error: tuple[str, int] | None = None  # (message, line)
    reads: frozenset[str] = frozenset()  # every name the template reads without defining it
    free: frozenset[str] = frozenset()  # ... minus the optional ones, `x | default(...)`
    first_line: tuple[tuple[str, int], ...] = ()  # where each free name is first read
    self_contained: bool = True  # no {% include %} / {% import %} / {% extends %}: the render depends on this file only


@functools.lru_cache(maxsize=None)
def _analyse(templates_dir: str, name: str, path: str, mtime_ns: int, size: int) -> _Analysis:
    """Keyed by the file's mtime and size, so an edited template is analysed again in a long-lived process."""
    env = _environment(templates_dir)
    source = Path(path).read_text(encoding="utf-8")
    try:
        tree = env.parse(source, name=name, filename=path)
    except jinja2.TemplateSyntaxError as exc:
        return _Analysis(source, syntax_error=(exc.message or str(exc), exc.lineno))
    # `{{ x | default(...) }}` declares x as optional
    optional = {
        f.node.name for f in tree.find_all(nodes.Filter)
        if f.name in ("default", "d") and isinstance(f.node, nodes.Name)
    }
    reads = meta.find_undeclared_variables(tree)
    free = reads - optional
    first_line: dict[str, int] = {}
    for node in tree.find_all(nodes.Name):
        if node.name in free and node.ctx == "load":
            first_line.setdefault(node.name, node.lineno)
    others = any(True for _ in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)))
    return _Analysis(source, reads=frozenset(reads), free=frozenset(free),
                     first_line=tuple(sorted(first_line.items())), self_contained=not others)


def _file_key(path: Path) -> tuple[int, int] | None:
    """The file's version (mtime, size), or None when it is not a regular file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size) if stat.S_ISREG(st.st_mode) else None


# Rendered text per (template file version, the values of the names the template reads): validation renders
# every SQL task to check its markers and compile needs the same text again; tasks that give a template the same
# values share one render (a template that never reads `task` renders once for all its tasks with equal vars).
_RENDERS: dict[tuple, str | TemplateProblem] = {}


def _rendered(config: ProjectConfig, job: JobSpec, task: TaskSpec, target: Target,
              analysis: _Analysis, ctx: dict[str, Any] | None = None) -> str | TemplateProblem:
    kind = task.kind
    assert isinstance(kind, SqlFileTask)
    path = template_path(config, kind.template)
    ctx = ctx if ctx is not None else context(job, task, target)
    key = None
    if analysis.self_contained:  # another template pulled in sees the whole context and may change on its own
        read = sorted((name, ctx[name]) for name in analysis.reads if name in ctx and name != "param")
        key = (str(path), analysis, repr(read))  # the analysis stands for the file's content
        cached = _RENDERS.get(key)
        if cached is not None:
            return cached
    result: str | TemplateProblem
    try:
        # get_template compiles once per process (the loader caches it; auto_reload notices edits)
        result = _environment(_folder(config)).get_template(kind.template).render(ctx)
    except jinja2.UndefinedError as exc:
        line = _template_line(exc, path) or 1
        result = TemplateProblem("FD402", f"template error: {exc.message}", Location(str(path), line))
    except jinja2.TemplateError as exc:
        result = TemplateProblem("FD403", f"template error: {exc}", Location(str(path), _template_line(exc, path) or 1))
    if key is not None:
        _RENDERS[key] = result
    return result


def check(config: ProjectConfig, job: JobSpec, task: TaskSpec, target: Target) -> list[TemplateProblem]:
    kind = task.kind
    assert isinstance(kind, SqlFileTask), kind
    path = template_path(config, kind.template)
    version = _file_key(path)
    if version is None:
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
    env = _environment(_folder(config))
    analysis = _analyse(_folder(config), kind.template, str(path), *version)
    if analysis.syntax_error is not None:
        message, line = analysis.syntax_error
        return [TemplateProblem("FD403", f"template syntax error: {message}", Location(str(path), line))]
    ctx = context(job, task, target)
    problems: list[TemplateProblem] = []
    undeclared = analysis.free - set(ctx) - set(env.globals)
    if undeclared:
        first_line = dict(analysis.first_line)
        for name in sorted(undeclared):
            problems.append(TemplateProblem(
                "FD402",
                f"template variable {name!r} is not declared; pass it with job.sql(..., vars={{{name!r}: ...}}) or "
                f"the target's vars, or use the run-time marker :{name} for a job parameter",
                Location(str(path), first_line.get(name, 1)),
            ))
        return problems
    rendered = _rendered(config, job, task, target, analysis, ctx)
    if isinstance(rendered, TemplateProblem):
        return [rendered]
    declared = job.param_names() | {k for k, _ in kind.parameters}
    for name, offset in _markers(rendered):
        if name not in declared:
            line = _source_line(analysis.source, ":" + name) or rendered.count("\n", 0, offset) + 1
            problems.append(TemplateProblem(
                "FD404",
                f"SQL parameter marker :{name} is neither a job parameter nor a task parameter "
                f"(declared: {', '.join(sorted(declared)) or 'none'}); declare it in Job(params=...) or "
                "job.sql(..., params=...)",
                Location(str(path), line),
            ))
    return problems


@functools.lru_cache(maxsize=4096)
def _markers(sql: str) -> tuple[tuple[str, int], ...]:
    return tuple(sql_markers(sql))


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
