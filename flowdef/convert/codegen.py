"""Python source for a model job: the module a person would have written with flowdef's DSL.

``job_module(job)`` turns a :class:`~flowdef.model.spec.JobSpec` (decoded from a payload, or loaded) into a
module that declares the same job, so that loading it and compiling gives the same payload:

- tasks in the job's order, through the DSL method of their kind (``job.notebook``, ``job.sql``, ...); a task
  another task names gets a handle (``ingest = job.notebook(...)``), and ``depends_on=`` takes handles and
  condition branches (``check.true``);
- ``{{job.parameters.x}}``, ``{{tasks.t.values.y}}`` and ``{{input}}`` inside strings become typed references
  (``job.params.x``, ``t.values.y``, ``INPUT``), in f-strings where they are part of a longer text; a producer
  of values other tasks read declares them (``values=[...]``, names only: a payload carries no types);
- triggers, compute and settings as the model's own constructors, named ones where they say the same
  (``Cron.daily(at="06:00", timezone=...)``, ``Library.pypi(...)``, ``RunAs.user(...)``); the compute every task that
  needs one shares becomes the job's ``compute=``;
- laid out like hand-written code by :mod:`flowdef.convert.pysource` (lines within 100 characters).

Every rendered value is evaluated back and compared with the model value, so a rendering that would change
the job is never written (:class:`CodegenError` says what could not be expressed).
"""

from __future__ import annotations

import functools
import keyword
import re
from typing import Any

import attrs

from flowdef._frozen import frozen
from flowdef.dsl.declare import options_of
from flowdef.dsl.job import Job
from flowdef.wire.encode import retry_fields
from flowdef.wire.kinds import BY_MODEL
from flowdef.convert.pysource import Atom, Group, Kw, Node, Pair, Str, call, statement, string
from flowdef.model.compute import ClusterSpec, Environment, ExistingCluster, JobCluster
from flowdef.model.spec import JobSpec, RunIf, TaskSpec
from flowdef.convert.codegen_parts import (
    _Applied, _attr, _chain, _cron_forms, _docstring, _map, _strings, _stub, identifier,
)
from flowdef.model.tasks import ConditionTask, ForEachTask, FunctionTask, RawTask

_MARK = "\x00"  # brackets an expression's number while a string is split into text and typed references


@functools.cache
def _takes(method: str) -> frozenset[str]:
    """The options the DSL method ``method`` takes (beyond its kind's own arguments), read from its signature."""
    return options_of(getattr(Job, method))


def _method(kind: Any) -> str:
    """The DSL method that declares a kind (its entry in the kinds table)."""
    entry = BY_MODEL.get(type(kind))
    return entry.dsl[0] if entry is not None else "raw_task"


def _needs_compute(kind: Any) -> bool:
    """Whether a kind must name compute (or get the job's default): the per-kind table's answer."""
    try:
        from flowdef.wire.kinds import needs_compute
    except ImportError:  # the table is not there yet: the kinds' own attribute
        return bool(getattr(kind, "needs_compute", False))
    return needs_compute(kind)


class CodegenError(ValueError):
    """The job holds something the DSL cannot say (the importer reports it; nothing is written for the job)."""


@frozen
class Generated:
    source: str
    module: str | None = None  # the module the job's function tasks live in (the file must be importable so)
    notes: tuple[str, ...] = ()  # what the user should look at (also written as comments)


def _namespace() -> dict:
    import flowdef

    ns = {name: getattr(flowdef, name) for name in flowdef.__all__ if name not in ("TaskContext", "TaskValues")}
    from flowdef.model import tasks

    ns.update(Subscriber=tasks.Subscriber, PowerBiModel=tasks.PowerBiModel, PowerBiTable=tasks.PowerBiTable)
    return ns


class _Writer:
    def __init__(self, job: JobSpec) -> None:
        from flowdef.dsl.refs import Params, Values

        self.job = job
        self.ns = _namespace()
        self.used: set[str] = {"Job"}
        self.notes: list[str] = []
        self.handles: dict[str, str] = {}  # task key -> variable, once declared
        self.branch_keys: set[str] = set()
        self._params_cls, self._values_cls = Params, Values
        self.in_for_each = False
        self.refs = True  # typed references need `job` and the handles: not inside Job(...) itself
        self.live = dict(self.ns)  # what generated expressions are evaluated in, to check them

    # -- values ------------------------------------------------------------------------------------------------

    def name(self, text: str) -> Atom:
        self.used.add(text.split(".")[0])
        return Atom(text)

    def text(self, value: str) -> Node:
        """A string, with the references it holds as typed expressions."""
        from flowdef.dsl.job import InputRef
        from flowdef.dsl.refs import JobParamRef, TaskValueRef
        from flowdef.jobsapi.refs import substitute

        exprs: list[str] = []

        def expression(ref) -> str | None:
            expr = None
            if ref.kind == "job.parameters" and len(ref.parts) == 3 and ref.parts[2] in self.job.param_names():
                if JobParamRef(ref.parts[2]) == ref.text:
                    expr = "job.params" + _attr(ref.parts[2], self._params_cls)
            elif ref.kind == "tasks.values" and len(ref.parts) == 4 and ref.parts[1] in self.handles:
                if TaskValueRef(ref.parts[1], ref.parts[3]) == ref.text:
                    expr = self.handles[ref.parts[1]] + ".values" + _attr(ref.parts[3], self._values_cls)
            elif ref.kind == "input" and self.in_for_each and InputRef(tuple(ref.parts[1:])) == ref.text:
                expr = "INPUT" + "".join(_attr(p, str) for p in ref.parts[1:])
                self.used.add("INPUT")
            if expr is None:
                return None
            exprs.append(expr)
            return f"{_MARK}{len(exprs) - 1}{_MARK}"

        marked = substitute(value, expression) if self.refs and _MARK not in value else value
        parts: list[tuple[bool, str]] = []
        for i, piece in enumerate(marked.split(_MARK) if exprs else [value]):
            if i % 2:
                parts.append((True, exprs[int(piece)]))
            elif piece:
                parts.append((False, piece))
        if not exprs:
            return Str(value)
        if len(parts) == 1:
            return Atom(parts[0][1])
        literal = "".join(p for is_expr, p in parts if not is_expr)
        code = "".join(p for is_expr, p in parts if is_expr)
        if any(c in literal for c in '{}"\\') or '"' in code or not literal.isprintable():
            return Atom(" + ".join(p if is_expr else string(p) for is_expr, p in parts))
        return Atom('f"' + "".join("{" + p + "}" if is_expr else p for is_expr, p in parts) + '"')

    def value(self, v: Any) -> Node:
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
            return Atom(repr(int(v)))  # 60, as a person writes it (and equal to 60.0)
        if v is None or isinstance(v, (bool, int, float)):
            return Atom(repr(v))
        if isinstance(v, dict):
            return Group("{", [Pair(Str(str(k)), self.value(x)) for k, x in v.items()], "}")
        if isinstance(v, (list, tuple)):
            if v and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in v) \
                    and len({p[0] for p in v}) == len(v):
                return self.value(dict(v))  # (name, value) pairs: a dict says it best
            return Group("[", [self.value(x) for x in v], "]")
        if attrs.has(type(v)):
            return self.model(v)
        if hasattr(v, "to_model") and isinstance(getattr(v, "key", None), str):  # another flowdef Job
            from flowdef.jobsapi.placeholders import job_placeholder

            return Str(job_placeholder(v.key))
        raise CodegenError(f"cannot write {type(v).__name__} values")

    def check(self, node: Node, expected: Any) -> bool:
        try:
            return eval(node.flat(), dict(self.live)) == expected  # noqa: S307 - our own generated expression
        except Exception:  # noqa: BLE001 - a rendering that does not evaluate is simply not used
            return False

    def model(self, v: Any) -> Node:
        """A model value through its class: a named constructor when one says exactly the same."""
        for candidate in self._named(v):
            if self.check(candidate, v):
                self.used.add(type(v).__name__)
                return candidate
        node = self._generic(v)
        if not self.check(node, v):
            raise CodegenError(f"cannot write {v!r} as Python")
        return node

    def _generic(self, v: Any) -> Node:
        cls = type(v)
        self.used.add(cls.__name__)
        args: list[Node] = []
        positional = True
        for f in attrs.fields(cls):
            if f.name == "location" or not f.init:
                continue
            val = getattr(v, f.name)
            if f.default is not attrs.NOTHING:
                default: Any = f.default
                if isinstance(default, attrs.Factory):  # type: ignore[arg-type]  # attrs' Factory is a class
                    default = default.factory()
                if f.converter is not None:
                    try:
                        default = f.converter(default)  # type: ignore[misc,operator]
                    except Exception:  # noqa: BLE001
                        pass
                if val == default:
                    positional = False
                    continue
            node = self.value(val)
            if f.kw_only or not positional:
                args.append(Kw(f.name, node))
            else:
                args.append(node)
        return call(cls.__name__, *args)

    def _named(self, v: Any) -> list[Node]:
        name = type(v).__name__
        out: list[Node] = []
        if name == "Cron":
            out += _cron_forms(v)
        elif name == "Library":
            kw = [Kw("repo", Str(v.repo))] if v.repo else []
            if v.exclusions:
                kw.append(Kw("exclusions", self.value(list(v.exclusions))))
            out.append(call(f"Library.{v.kind}", Str(v.value), *kw))
        elif name == "RunAs":
            for field, value in v.principals():
                method = {"user_name": "user", "service_principal_name": "service_principal",
                          "group_name": "group"}[field]
                out.append(call(f"RunAs.{method}", Str(value)))
        elif name == "Permission":
            for field, value in v.principals():
                method = {"user_name": "user", "service_principal_name": "service_principal",
                          "group_name": "group"}[field]
                out.append(call(f"Permission.{method}", Str(value), Str(v.level)))
        elif name == "GitSource":
            method = str(v.provider).replace("gitHub", "github").replace("gitLab", "gitlab")
            method = re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()
            kw = [Kw(k, Str(getattr(v, k))) for k in ("branch", "tag", "commit") if getattr(v, k)]
            if v.sparse_checkout:
                kw.append(Kw("sparse_checkout", self.value(list(v.sparse_checkout))))
            out.append(call(f"GitSource.{method}", Str(v.url), *kw))
        elif name == "Retry" and v.interval is None and not v.on_timeout:
            out.append(call("Retry", Atom(repr(v.max_retries))))
        return out

    # -- the job -----------------------------------------------------------------------------------------------

    def module(self) -> Generated:
        job = self.job
        tasks = job.tasks
        referenced = self._referenced()
        functions = [t for t in job.all_tasks() if isinstance(t.kind, FunctionTask)]
        modules = {t.kind.module for t in functions}  # type: ignore[union-attr]
        if len(modules) > 1:
            raise CodegenError(f"job {job.key}: its function tasks live in several modules ({', '.join(modules)})")
        uses: dict[str, list[TaskSpec]] = {}
        for t in functions:
            name = t.kind.function  # type: ignore[union-attr]
            if not name.isidentifier() or keyword.iskeyword(name):
                raise CodegenError(f"task {t.key}: function {name!r} is not a module-level function")
            uses.setdefault(name, []).append(t)
        # A function run by one top-level task of its own name reads best decorated; otherwise it is defined once
        # and declared by each task that runs it (job.task(key=...)(fn), .task(fn, key=...) in a for-each).
        self.decorated = {ts[0].key for name, ts in uses.items()
                          if len(ts) == 1 and ts[0].key == name and not ts[0].in_for_each}
        self.defined: set[str] = set()
        taken: set[str] = {"job", "INPUT"} | set(self.ns) | set(uses)
        variables = {t.key: (t.kind.function if t.key in self.decorated else identifier(t.key, taken))  # type: ignore[union-attr]
                     for t in job.all_tasks() if t.key in referenced or t.key in self.decorated}
        job_compute, hoisted = self._computes(taken)
        body: list[str] = []
        for var, node in hoisted:
            body.append(statement(node, prefix=f"{var} = "))
        if hoisted:
            body.append("")
        self.refs = False
        body.append(statement(self._job_call(job_compute), prefix="job = "))
        self.refs = True
        self._live_job()
        values = self._values(referenced)
        for task in tasks:
            for name in self._functions_of(task):
                if name not in self.defined and task.key not in self.decorated:
                    self.defined.add(name)
                    body += ["", "", _stub(name, [], job), ""]
            text = self._task(task, variables, values, job_compute)
            body += ["", "", text, ""] if text.startswith("@") else ["", text]
            if task.key in variables:
                self._live_handle(task, variables[task.key])
            nested = getattr(task.kind, "task", None)
            if isinstance(nested, TaskSpec) and nested.key in variables:
                self.handles[nested.key] = f"{variables[task.key]}.nested"
        while "" in body[:1]:
            body.pop(0)
        header = [f'"""{_docstring(job)}"""', "", "from __future__ import annotations", ""]
        imported = {n for n in self.used if n in self.ns and n != "TaskContext"} | ({"TaskContext"} if functions
                                                                                     else set())
        # isort's order by type (what ruff writes): CONSTANTS, then Classes, then functions
        names = sorted(imported, key=lambda n: (0 if n.isupper() else 1 if n[:1].isupper() else 2, n))
        header.append(statement(Group("from flowdef import (", [Atom(n) for n in names], ")"))
                      if len(", ".join(names)) > 80 else f"from flowdef import {', '.join(names)}")
        header.append("")
        text = "\n".join(header + body).rstrip() + "\n"
        return Generated(text, next(iter(modules)) if modules else None, tuple(self.notes))

    def _live_job(self) -> None:
        from flowdef.dsl.job import Job

        self.live["job"] = Job(self.job.name, params={p.name: p.default for p in self.job.params})

    def _live_handle(self, task: TaskSpec, var: str) -> None:
        from flowdef.dsl.job import ConditionHandle, ForEachHandle, TaskHandle

        self.handles[task.key] = var
        job = self.live["job"]
        if isinstance(task.kind, ConditionTask):
            self.live[var] = ConditionHandle(task.key, job, None)
        elif isinstance(task.kind, ForEachTask):
            handle = ForEachHandle(task.key, job, None, 0)
            if task.kind.task is not None:
                handle.nested = TaskHandle(task.kind.task.key, job, None)
            self.live[var] = handle
        else:
            self.live[var] = TaskHandle(task.key, job, None)

    def _referenced(self) -> set[str]:
        """Task keys another task names: as a dependency or in a value reference."""
        keys = set()
        for t in self.job.all_tasks():
            for d in t.depends_on:
                keys.add(d.task_key)
        for key, _ in self._value_refs():
            keys.add(key)
        return keys

    def _value_refs(self) -> set[tuple[str, str]]:
        from flowdef.jobsapi.refs import find_refs

        found = set()
        for text in _strings(self.job):
            for ref in find_refs(text):
                if ref.kind == "tasks.values" and len(ref.parts) == 4:
                    found.add((ref.parts[1], ref.parts[3]))
        return found

    def _values(self, referenced: set[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, name in sorted(self._value_refs()):
            out.setdefault(key, []).append(name)
        return out

    def _computes(self, taken: set[str]) -> tuple[Any, list[tuple[str, Node]]]:
        """The job's default compute (declared, or the one every task needing compute shares) and the compute
        values worth a name of their own (used more than once)."""
        job = self.job
        default = job.compute
        needing = [t for t in job.all_tasks() if _needs_compute(t.kind)]
        if default is None and needing:
            shared = {repr(t.compute) for t in needing}
            first = needing[0].compute
            if len(shared) == 1 and first is not None and isinstance(first, (Environment, JobCluster,
                                                                             ExistingCluster, ClusterSpec)):
                default = first
        self.default_compute = default
        uses: dict[str, list[Any]] = {}
        rendered = [default] + [t.compute for t in job.all_tasks() if not self._inherits(t, default)]
        for c in rendered:
            if isinstance(c, (Environment, JobCluster)):
                uses.setdefault(repr(c), []).append(c)
        self.compute_names: dict[str, str] = {}
        hoisted = []
        for text, items in uses.items():
            if len(items) > 1:
                c = items[0]
                suffix = "environment" if isinstance(c, Environment) else "cluster"
                var = identifier(f"{c.key}_{suffix}", taken)
                hoisted.append((var, self.model(c)))
                self.compute_names[text] = var
        return default, hoisted

    @staticmethod
    def _inherits(task: TaskSpec, default: Any) -> bool:
        """The task's compute is the job's default: it is not written on the task."""
        return (task.compute is not None and default is not None and repr(task.compute) == repr(default)
                and _needs_compute(task.kind))

    def _compute_node(self, c: Any) -> Node:
        name = self.compute_names.get(repr(c))
        return Atom(name) if name else self.model(c)

    def _job_call(self, compute: Any) -> Node:
        from flowdef.dsl.job import _slug

        job = self.job
        args: list[Node] = [Str(job.name)]
        if job.key != _slug(job.name):
            args.append(Kw("key", Str(job.key)))
        if job.description is not None:
            args.append(Kw("description", Str(job.description)))
        if job.params:
            args.append(Kw("params", Group("{", [Pair(Str(p.name), Str(p.default)) for p in job.params], "}")))
        if job.tags:
            args.append(Kw("tags", self.value(dict(job.tags))))
        if len(job.triggers) == 1:
            args.append(Kw("trigger", self.model(job.triggers[0])))
        elif job.triggers:
            args.append(Kw("trigger", Group("[", [self.model(t) for t in job.triggers], "]")))
        if compute is not None:
            args.append(Kw("compute", self._compute_node(compute)))
        used = {repr(t.compute) for t in job.all_tasks()  # compute the compiler adds from the tasks themselves
                if t.compute is not None and "compute" in _takes(_method(t.kind))}
        used.add(repr(compute))
        envs = [e for e in job.environments if repr(e) not in used]
        clusters = [c for c in job.job_clusters if repr(c) not in used]
        if envs:
            args.append(Kw("environments", Group("[", [self._compute_node(e) for e in envs], "]")))
        if clusters:
            args.append(Kw("job_clusters", Group("[", [self._compute_node(c) for c in clusters], "]")))
        for field, kw in (("max_concurrent_runs", "max_concurrent_runs"), ("timeout_seconds", "timeout"),
                          ("queue", "queue")):
            if getattr(job, field) is not None:
                args.append(Kw(kw, Atom(repr(getattr(job, field)))))
        for field in ("notifications", "health", "git", "run_as"):
            if getattr(job, field) is not None:
                args.append(Kw(field, self.model(getattr(job, field))))
        if job.permissions:
            args.append(Kw("permissions", Group("[", [self.model(p) for p in job.permissions], "]")))
        if job.edit_mode is not None:
            args.append(Kw("edit_mode", self._enum("EditMode", job.edit_mode)))
        if job.extra:
            args.append(Kw("extra", Group("{", [Pair(Str(k), self.value(v)) for k, v in job.extra], "}")))
        return call("Job", *args)

    def _enum(self, cls: str, value: str) -> Node:
        enum = self.ns[cls]
        if value in enum.__members__:
            self.used.add(cls)
            return Atom(f"{cls}.{value}")
        return Str(value)

    # -- tasks -------------------------------------------------------------------------------------------------

    def _task(self, task: TaskSpec, variables: dict[str, str], values: dict[str, list[str]], job_compute: Any,
              indent: int = 0) -> str:
        kind = task.kind
        method, args, own = self._kind_call(task)
        options = self._options(task, method, values, job_compute)
        prefix = f"{variables[task.key]} = " if task.key in variables else ""
        if isinstance(kind, FunctionTask):
            return self._function(task, options, prefix, variables)
        node = call(f"job.{method}", *args, *own, *options)
        if isinstance(kind, ForEachTask) and kind.task is not None:
            inner = kind.task
            if isinstance(inner.kind, ConditionTask):  # a for-each handle has no .condition(): the raw form
                c = inner.kind
                inner = attrs.evolve(inner, kind=RawTask((("condition_task", {"op": c.op, "left": c.left,
                                                                              "right": c.right}),)))
                self.notes.append(f"task {inner.key}: a condition inside a for-each is written as a raw task")
            self.in_for_each = True
            try:
                n_method, n_args, n_own = self._kind_call(inner)
                n_options = self._options(inner, n_method, values, job_compute, nested=True)
            finally:
                self.in_for_each = False
            if n_method == "task":
                fn = kind.task.kind
                assert isinstance(fn, FunctionTask)
                self.notes.append(f"task {kind.task.key}: the body of function {fn.function} is not in a payload")
                n_args = [Atom(fn.function)]
                if kind.task.key != fn.function:
                    n_args.append(Kw("key", Str(kind.task.key)))
                n_own = self._kws(params=_map(self, fn.parameters))
            nested = call(f".{n_method}", *n_args, *n_own, *n_options)
            return prefix + _chain(node, nested, len(prefix))
        return statement(node, prefix=prefix)

    @staticmethod
    def _functions_of(task: TaskSpec) -> list[str]:
        nested = getattr(task.kind, "task", None)
        return [t.kind.function for t in (task, nested) if isinstance(t, TaskSpec)  # type: ignore[union-attr]
                and isinstance(t.kind, FunctionTask)]

    def _function(self, task: TaskSpec, options: list[Node], prefix: str, variables: dict[str, str]) -> str:
        kind = task.kind
        assert isinstance(kind, FunctionTask)
        params = self._kws(params=_map(self, kind.parameters))
        self.notes.append(f"task {task.key}: the body of function {kind.function} is not in a payload; write it "
                          f"(it ran {kind.module}.{kind.function})")
        if task.key in self.decorated:
            decorator = "@job.task" if not (params or options) else statement(call("@job.task", *params, *options))
            return _stub(kind.function, [decorator], self.job)
        declared = call("job.task", Kw("key", Str(task.key)), *params, *options)
        return statement(_Applied(declared, kind.function), prefix=prefix)

    def _kind_call(self, task: TaskSpec) -> tuple[str, list[Node], list[Node]]:
        from flowdef.convert.codegen_kinds import KindError, kind_call

        try:
            return kind_call(self, task)
        except KindError as exc:
            raise CodegenError(str(exc)) from None

    @staticmethod
    def _kws(**values: Node | None) -> list[Node]:
        return [Kw(name, node) for name, node in values.items() if node is not None]

    def _options(self, task: TaskSpec, method: str, values: dict[str, list[str]], job_compute: Any,
                 nested: bool = False) -> list[Node]:
        allowed = _takes(method)
        out: list[tuple[str, Node]] = []
        extra = list(task.extra) if method != "raw_task" else []
        if task.depends_on:
            deps: list[Node] = []
            for d in task.depends_on:
                handle = self.handles.get(d.task_key)
                if handle is not None and d.outcome in ("true", "false") and d.task_key in self.branch_keys:
                    deps.append(Atom(f"{handle}.{d.outcome}"))
                elif handle is not None and d.outcome is None:
                    deps.append(Atom(handle))
                elif d.outcome is None:
                    deps.append(Str(d.task_key))
                else:
                    raise CodegenError(f"task {task.key}: depends on outcome {d.outcome!r} of {d.task_key}, which "
                                       "is not a condition task declared before it")
            out.append(("depends_on", Group("[", deps, "]")))
        if task.run_if is not None:
            out.append(("run_if", self._enum("RunIf", task.run_if) if task.run_if in RunIf.__members__
                        else Str(task.run_if)))
        # Options a method does not take (a for-each's retries, a SQL task's compute) are still Jobs API task
        # fields: they go to extra= as the compiler writes them.
        raw: list[tuple[str, Any]] = []
        if task.retry is not None:
            if "retry" in allowed:
                out.append(("retry", self.model(task.retry)))
            else:
                raw += retry_fields(task.retry).items()  # as the compiler writes them
        if task.timeout_seconds is not None:
            if "timeout" in allowed:
                out.append(("timeout", Atom(repr(task.timeout_seconds))))
            else:
                raw.append(("timeout_seconds", task.timeout_seconds))
        compute = task.compute
        if compute is not None and not self._inherits(task, job_compute):
            if "compute" in allowed:
                out.append(("compute", self._compute_node(compute)))
            elif isinstance(compute, (Environment, JobCluster, ExistingCluster)):
                field = {Environment: "environment_key", JobCluster: "job_cluster_key",
                         ExistingCluster: "existing_cluster_id"}[type(compute)]
                raw.append((field, getattr(compute, "key", None) or getattr(compute, "cluster_id", None)))
            else:
                raise CodegenError(f"task {task.key}: {method} tasks take no compute, but it has {compute!r}")
        if raw:
            extra[:0] = raw
            self.notes.append(f"task {task.key}: {', '.join(k for k, _ in raw)} set through extra= (the "
                              f"{method} method has no option for it)")
        if task.libraries:
            if "libraries" not in allowed:
                raise CodegenError(f"task {task.key}: {method} tasks take no libraries")
            out.append(("libraries", Group("[", [self.model(lib) for lib in task.libraries], "]")))
        if task.notifications is not None:
            out.append(("notifications", self.model(task.notifications)))
        if task.health is not None:
            out.append(("health", self.model(task.health)))
        declared = [n for n, _ in task.values] or values.get(task.key, [])
        if declared:
            if "values" in allowed:
                if task.values and all(t != "object" for _, t in task.values):
                    node: Node = Group("{", [Pair(Str(n), Atom(t)) for n, t in task.values], "}")
                else:
                    node = Group("[", [Str(n) for n in declared], "]")
                out.append(("values", node))
            else:
                self.notes.append(f"task {task.key}: other tasks read its values {declared}, which a {method} task "
                                  "cannot declare")
        if task.description is not None:
            out.append(("description", Str(task.description)))
        if task.disabled:
            out.append(("disabled", Atom("True")))
        if extra:
            if "extra" not in allowed:
                raise CodegenError(f"task {task.key}: raw fields {[k for k, _ in extra]} on a {method} task")
            out.append(("extra", Group("{", [Pair(Str(k), self.value(x)) for k, x in extra], "}")))
        bad = [name for name, _ in out if name not in allowed]
        if bad:
            raise CodegenError(f"task {task.key}: {method} tasks take no {', '.join(bad)}")
        if isinstance(task.kind, ConditionTask):
            self.branch_keys.add(task.key)
        return [Kw(name, node) for name, node in out]


def job_module(job: JobSpec) -> Generated:
    """The Python module declaring ``job`` (raises :class:`CodegenError` for what the DSL cannot say)."""
    from flowdef.jobsapi.placeholders import job_placeholder
    from flowdef.model.triggers import JobCompletion

    triggers: tuple[Any, ...] = tuple(
        attrs.evolve(t, jobs=tuple(job_placeholder(j.key) if hasattr(j, "to_model") else j for j in t.jobs))  # type: ignore[misc]
        if isinstance(t, JobCompletion) else t
        for t in job.triggers)  # another flowdef Job of the project: by its key, as compiled
    return _Writer(attrs.evolve(job, triggers=triggers)).module()
