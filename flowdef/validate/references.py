"""Reference and secret rules: every ``{{...}}`` in a job is parsed and checked against the real namespaces, and
every value the job carries is searched for credentials written in clear.

Typed references (``job.params.x``, ``handle.values.y``) carry the user's line; references written inside plain
strings are reported at the task's line.  A task-value reference must point at an *ancestor* (a task that has
finished before this one starts) and, when the producer declares its values, at a declared name.  ``{{input}}``
exists only inside the nested task of a for-each task.  A for-each task's literal ``inputs`` must be a JSON array
of at most 10,000 characters.

The rules look at each value once, the strings of each task kind where its entry in :mod:`flowdef.wire.kinds`
says they are (no reflection over the kinds), so a job is checked in time linear in its size.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import attrs

from flowdef._location import Location
from flowdef.diagnostics import Diagnostic, diag
from flowdef.dsl.refs import Ref, TaskValueRef
from flowdef.jobsapi.refs import ParsedRef, find_refs, is_single_ref
from flowdef.validate import secrets
from flowdef.validate.secrets import secret_name, value_secret
from flowdef.validate.structure import JobContext, _suggest, is_for_each
from flowdef.wire import kinds
from flowdef.wire.kinds import ARGV, LIST, NAMED, NESTED, RAW, TEXT, VARS

FOR_EACH_INPUTS_MAX = 10_000

# (path, value, name or None): a string of the job, where it sits, and its parameter name when it has one
Item = tuple[str, str, "str | None"]

_FIELDS: dict[type, tuple[str, ...]] = {}


def walk(value, path: str, name: str | None = None) -> Iterator[Item]:
    """Every string inside a model value (attrs instances, tuples, dicts), with a path for messages and, for the
    values of ``(name, value)`` pairs and dicts, their name.  Used for values without a dedicated extractor (the
    rarer task kinds, triggers, compute, raw fields)."""
    if isinstance(value, str):
        yield path, value, name
    elif isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):  # (name, value) pairs
                yield from walk(item[1], f"{path}.{item[0]}", item[0])
            else:
                yield from walk(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{path}.{k}", str(k))
    elif attrs.has(type(value)):
        names = _FIELDS.get(type(value))
        if names is None:
            names = tuple(f.name for f in attrs.fields(type(value)) if f.name != "location" and f.eq)
            _FIELDS[type(value)] = names
        for field in names:
            yield from walk(getattr(value, field), f"{path}.{field}")


def strings(value, path: str) -> Iterator[tuple[str, str]]:
    """Every string inside a model value, with its path."""
    for p, v, _ in walk(value, path):
        yield p, v


# Paths are built only when a diagnostic needs one: a tuple of pieces until then (most strings are fine).
Path = "str | tuple[str, ...]"


def path_text(path) -> str:
    return path if isinstance(path, str) else "".join(path)


def kind_strings(kind, base: str) -> Iterator[tuple[Any, Any, str | None, bool]]:
    """The strings of one task kind, where its entry in :mod:`flowdef.wire.kinds` says they are:
    ``(path, value, name, refs)``, ``path`` the pieces of the value's path in the task's JSON, ``name`` the name
    the value is given under (a named parameter, a script's ``--name``) or None, ``refs`` False for the values the
    service never substitutes (template variables: searched for credentials only)."""
    entry = kinds.BY_MODEL.get(type(kind))
    if entry is None:  # not a kind (a hand-built model): every string inside it
        for path, value, name in walk(kind, base):
            yield path, value, name, True
        return
    for field, shape, wire in entry.strings:
        value = getattr(kind, field)
        if shape == TEXT:
            if value is not None:
                yield (base, ".", wire), value, None, True
        elif shape == NAMED or shape == VARS:
            for name, item in value:
                yield (base, ".", wire, ".", name), item, name, shape == NAMED
        elif shape == ARGV or shape == LIST:
            names = secrets.argv_names(value) if shape == ARGV else [None] * len(value)
            for i, item in enumerate(value):
                yield (base, ".", wire, f"[{i}]"), item, names[i], True
        else:
            assert shape == NESTED or shape == RAW, shape
            for path, item, name in walk(value, f"{base}.{wire}" if wire else base):
                yield path, item, name, True


# The reference kinds ``_Checker.ref`` never reports (outside a for-each task, ``input`` is reported).
_NO_TASK_REFS = frozenset({"job", "task", "workspace", "secret"})

_PLAIN: dict[str, bool] = {}


def _plain(value) -> bool:
    """A plain ``str`` holding no reference (no braces) that does not look like a credential: ``string`` has
    nothing to report about it (under a name that does not say it holds a credential).  Verdicts on strings long
    enough to be searched are remembered: paths and values recur across the tasks of a job."""
    if value.__class__ is not str:
        return False
    if len(value) < 8:  # too short for any credential pattern (value_secret)
        return "{{" not in value and "}}" not in value
    known = _PLAIN.get(value)
    if known is None:
        if len(_PLAIN) >= 4096:
            _PLAIN.clear()
        known = _PLAIN[value] = "{{" not in value and "}}" not in value and value_secret(value) is None
    return known


class _Checker:
    """What one job's reference rules share."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.params = ctx.job.param_names()
        self.tasks: dict = ctx.tasks_by_key  # shared with the structure rules (first declaration of a key wins)
        self.out: list[Diagnostic] = []
        self.pending: list[tuple] = []  # (producer, reader, text, where, path): is the producer upstream?
        self._quiet: dict[str, bool] = {}  # quiet_refs' verdicts

    def finish(self) -> list[Diagnostic]:
        """Answer the ancestry questions all at once, with bitsets over the producers only."""
        if self.pending:
            ancestry = self.ctx.ancestry_of({p for p, *_ in self.pending})
            if ancestry is not None:
                for producer, reader, text, where, path in self.pending:
                    if not ancestry.is_ancestor(producer, reader):
                        self.out.append(self.ctx.d(
                            "FD201",
                            f"task {reader!r} reads {text}, but {producer!r} is not upstream of {reader!r} "
                            f"(it may not have run yet); add depends_on=[{producer}] to {reader!r}",
                            where, path_text(path),
                        ))
        return self.out

    # ---- one string -------------------------------------------------------------------------------------------

    def string(self, value: str, path, location, task, *, in_for_each: bool = False,
               name: str | None = None, refs: bool = True) -> None:
        where = value.location if isinstance(value, Ref) and getattr(value, "location", None) else location
        if name is not None:
            problem = secrets.pair_secret(name, value)
            if problem:
                self._secret(problem, where, path)
        elif len(value) >= 8:
            found = secrets.value_secret(value)
            if found:
                self._secret(f"looks like a literal {found}", where, path)
        if not refs or ("{{" not in value and "}}" not in value):
            return
        for ref in find_refs(value):
            self.ref(ref, value, where, path, task, in_for_each)

    def _secret(self, problem: str, where, path) -> None:
        path = path_text(path)
        self.out.append(self.ctx.d("FD210", f"{path} {problem}: {secrets.FIX}", where, path))

    def ref(self, ref: ParsedRef, value: str, where, path, task, in_for_each: bool) -> None:
        ctx = self.ctx
        kind = ref.kind  # path: a str or the pieces of one, joined only for a diagnostic
        if kind == "malformed":
            self.out.append(ctx.d(
                "FD204",
                f"malformed reference {ref.text!r}: {ref.problem} (Databricks would leave it as literal text)",
                where, path_text(path),
            ))
        elif kind == "unknown":
            self.out.append(ctx.d("FD205", f"{ref.text}: {ref.problem}", where, path_text(path)))
        elif kind == "deprecated":
            self.out.append(ctx.d("FD205", f"{ref.text}: {ref.problem}", where, path_text(path),
                                  severity="warning"))
        elif kind == "job.parameters":
            name = ref.parts[2]
            if name not in self.params:
                declared = ", ".join(sorted(self.params)) or "none"
                self.out.append(ctx.d(
                    "FD202",
                    f"reference to undeclared job parameter {name!r}{_suggest(name, self.params)} "
                    f"(declared: {declared}); add it to Job(params=...)",
                    where, path_text(path),
                ))
        elif kind in ("tasks", "tasks.values"):
            self.task_ref(ref, value, where, path, task)
        elif kind == "input" and not in_for_each:
            self.out.append(ctx.d(
                "FD209",
                f"{ref.text} is only defined inside the task of a for-each task (the current element of its "
                "inputs); pass the value explicitly here",
                where, path_text(path),
            ))

    def task_ref(self, ref: ParsedRef, value: str, where, path, task) -> None:
        ctx = self.ctx
        producer_key = ref.parts[1]
        if isinstance(value, TaskValueRef) and getattr(value, "location", None):
            where = value.location
        producer = self.tasks.get(producer_key)
        if producer is None:
            self.out.append(ctx.d(
                "FD201",
                f"{ref.text} refers to unknown task {producer_key!r}{_suggest(producer_key, self.tasks)}",
                where, path_text(path),
            ))
            return
        if task is None:
            self.out.append(ctx.d(
                "FD201", f"{ref.text}: task values are not available here (no task has run yet when job "
                "parameters and triggers are resolved)", where, path_text(path),
            ))
            return
        if producer_key == task.key:
            if ref.kind == "tasks.values":
                self.out.append(ctx.d(
                    "FD201",
                    f"task {task.key!r} reads its own task value {ref.text}; read it from a downstream task",
                    where, path_text(path),
                ))
            return
        self.pending.append((producer_key, task.key, ref.text, where, path))  # upstream? see finish()
        if ref.kind == "tasks.values" and producer.values:
            name = ref.parts[3]
            declared = {n for n, _ in producer.values}
            if name not in declared:
                self.out.append(ctx.d(
                    "FD203",
                    f"task {producer_key!r} does not declare a task value {name!r}{_suggest(name, declared)} "
                    f"(declared: {', '.join(sorted(declared))}); fix the name or add it to values=",
                    where, path_text(path),
                ))

    # ---- a task ------------------------------------------------------------------------------------------------

    def task(self, task, host, *, in_for_each: bool) -> None:
        """Check ``task``'s strings; ``host`` is the top-level task whose ancestors are available (the for-each
        task, for its nested task)."""
        kind = task.kind
        location = task.location or host.location
        for path, value, name, refs in kind_strings(kind, "tasks." + task.key):
            if not refs:
                problem = secrets.pair_secret(name, value) if name is not None else None
                if problem:
                    self._secret(problem, location, path)
            elif (_plain(value) and (name is None or not secret_name(name))
                  or not in_for_each and self.quiet_refs(value)):
                continue  # the common string: no credential, no reference that needs the task to check
            else:
                self.string(value if isinstance(value, str) else str(value), path, location, host,
                            in_for_each=in_for_each, name=name)
        if is_for_each(kind):
            self.for_each_inputs(task, kind, location)
            inner = getattr(kind, "task", None)
            if inner is not None and hasattr(inner, "kind"):
                self.task(inner, host, in_for_each=True)

    def quiet_refs(self, value) -> bool:
        """True when ``string`` provably reports nothing about ``value`` outside a for-each task, whatever its
        name and task: it holds ``{{`` (so it is no literal, whatever its name says), does not look like a
        credential, and each of its references is one that needs no task to check (a declared job parameter, or
        the job's, task's, workspace's or a secret's).  Remembered per job: the same references recur."""
        known = self._quiet.get(value) if isinstance(value, str) else False
        if known is None:
            params = self.params
            known = self._quiet[value] = "{{" in value and value_secret(value) is None and all(
                r.kind in _NO_TASK_REFS or r.kind == "job.parameters" and r.parts[2] in params
                for r in find_refs(value)
            )
        return known

    def for_each_inputs(self, task, kind, location) -> None:
        inputs = kind.inputs
        path = f"tasks.{task.key}.for_each_task.inputs"
        where = inputs.location if isinstance(inputs, Ref) and getattr(inputs, "location", None) else location
        if not isinstance(inputs, str):
            self.out.append(self.ctx.d("FD211", f"for-each inputs must be a string (a JSON array or a reference), "
                                       f"got {type(inputs).__name__}", where, path))
            return
        if "{{" in inputs or "}}" in inputs:
            if is_single_ref(inputs):
                self._for_each_param_default(inputs, where, path)
            return  # references are checked like any other string
        if len(inputs) > FOR_EACH_INPUTS_MAX:
            self.out.append(self.ctx.d(
                "FD211",
                f"for-each inputs are {len(inputs):,} characters; a literal array may have at most "
                f"{FOR_EACH_INPUTS_MAX:,} — publish the list as a task value (up to 48 KB) and pass "
                "inputs=<task>.values.<name>, or pass it in a job parameter",
                where, path,
            ))
            return
        try:
            value = json.loads(inputs)
        except json.JSONDecodeError as exc:
            self.out.append(self.ctx.d(
                "FD211", f"for-each inputs {_short(inputs)!r} are not valid JSON ({exc.msg} at character "
                f"{exc.pos}); write a JSON array such as [\"a\", \"b\"] (or pass a Python list)", where, path,
            ))
            return
        if not isinstance(value, list):
            what = {dict: "object", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")
            self.out.append(self.ctx.d(
                "FD211", f"for-each inputs must be a JSON array, got a JSON {what} {_short(inputs)!r}; wrap it in "
                "[...]", where, path,
            ))

    def _for_each_param_default(self, inputs: str, where, path: str) -> None:
        """``inputs="{{job.parameters.ids}}"``: the parameter's default (for this target) should be an array."""
        ref = find_refs(inputs)[0]
        if ref.kind != "job.parameters" or ref.parts[2] not in self.params:
            return
        name = ref.parts[2]
        default = self.ctx.target.params_dict.get(name)
        if default is None:
            default = next(p.default for p in self.ctx.job.params if p.name == name)
        if default == "":
            return  # supplied at run time
        try:
            ok = isinstance(json.loads(default), list)
        except ValueError:
            ok = False
        if not ok:
            self.out.append(self.ctx.d(
                "FD211",
                f"for-each inputs come from job parameter {name!r}, whose default {_short(default)!r} is not a "
                "JSON array: every run that does not override it fails; make the default a JSON array",
                where, path, severity="warning",
            ))


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width] + "..."


def check(ctx: JobContext) -> list[Diagnostic]:
    job = ctx.job
    c = _Checker(ctx)
    for p in job.params:
        c.string(p.default, f"parameters.{p.name}", p.location, None, name=p.name)
    _target_overrides(c)
    for trig in job.triggers:
        for path, value in strings(trig, "trigger"):
            c.string(value, path, trig.location, None, refs=False)
            for ref in find_refs(value):
                if ref.kind in ("job.parameters", "malformed", "unknown", "deprecated"):
                    c.ref(ref, value, trig.location, path, None, False)
                else:
                    c.out.append(ctx.d(
                        "FD205",
                        f"{ref.text} cannot be used in a trigger: only job parameters are allowed there "
                        "(replaced by their default for the target at compile time)",
                        trig.location, path,
                    ))
    own_settings = []  # tasks with compute, libraries or raw fields: searched by _compute (found in this pass)
    for task in job.tasks:
        c.task(task, task, in_for_each=False)
        if task.compute is not None or task.libraries or task.extra:
            own_settings.append(task)
        nested = getattr(task.kind, "task", None) if is_for_each(task.kind) else None
        if nested is not None and (nested.compute is not None or nested.libraries or nested.extra):
            own_settings.append(nested)
    _compute(c, own_settings)
    for name, value in job.tags:
        problem = secrets.value_secret(value) if isinstance(value, str) else None
        if problem:
            c._secret(f"looks like a literal {problem}", job.location, f"tags.{name}")
    # descriptions are shown to every reader of the job (and echoed by plans): no credentials there either
    for where, text, path in [(job.location, job.description, "description")] + [
            (t.location or job.location, t.description, f"tasks.{t.key}.description") for t in job.tasks
            if t.description is not None]:
        problem = secrets.text_secret(text) if isinstance(text, str) else None
        if problem:
            c._secret(f"contains what looks like a literal {problem}", where, path)
    return c.finish()


def _target_overrides(c: _Checker) -> None:
    """A target's parameter overrides live in the project config (usually committed): no secrets there either."""
    declared = c.params
    source = c.ctx.config.source
    for name, value in c.ctx.target.params:
        if name not in declared:
            continue
        problem = secrets.pair_secret(name, value)
        if problem:
            loc = _config_line(source, name)
            c.out.append(diag(
                "FD210", f"target {c.ctx.target.name!r} parameter {name!r} {problem}: {secrets.FIX}", loc,
                path=f"targets.{c.ctx.target.name}.params.{name}",
            ))


def _config_line(source, needle: str) -> Location | None:
    if source is None:
        return None
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError:
        return Location(str(source), 1)
    for i, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith(needle) or f" {needle} " in line or f"{needle} =" in line or f"{needle}=" in line:
            return Location(str(source), i)
    return Location(str(source), 1)


def _settings_only(c: _Checker, value, path: str, location) -> None:
    """Values that are sent to the service but never substituted (compute, libraries, Git source, raw fields):
    searched for credentials, and their ``{{secrets/...}}`` references for well-formedness."""
    for p, v, name in walk(value, path):
        c.string(v, p, location, None, name=name, refs=False)
        if "{{" in v or "}}" in v:
            for ref in find_refs(v):
                if ref.kind == "malformed":
                    c.ref(ref, v, location, p, None, False)


def _compute(c: _Checker, tasks: list) -> None:
    """Cluster Spark conf, environment variables and tags, init scripts, serverless environments' dependencies
    (pip lines with tokens in URLs), task libraries, the Git source and raw settings.  ``tasks``: the tasks
    (nested ones included) that have compute, libraries or raw fields of their own."""
    job = c.ctx.job
    candidates = [job.compute, *job.environments, *job.job_clusters]
    for task in tasks:
        if task.compute is not None:
            candidates.append(task.compute)
        libraries = getattr(task, "libraries", ()) or ()
        extra = getattr(task, "extra", None)
        if not libraries and not extra:
            continue  # the common task: nothing of its own to search
        base = f"tasks.{task.key}"
        for i, lib in enumerate(libraries):
            _settings_only(c, lib, f"{base}.libraries[{i}]", getattr(lib, "location", None) or task.location)
        if extra:
            _settings_only(c, dict(task.extra), base, task.location)
    for compute in dict.fromkeys(x for x in candidates if x is not None):
        loc = getattr(compute, "location", None)
        key = getattr(compute, "key", None) or getattr(compute, "cluster_id", None) or "new_cluster"
        kind = type(compute).__name__
        base = (f"environments.{key}.spec" if kind == "Environment" else
                f"job_clusters.{key}.new_cluster" if kind == "JobCluster" else f"compute.{key}")
        _settings_only(c, getattr(compute, "spec", compute), base, loc)
    for field in ("git", "run_as"):
        value = getattr(job, field, None)
        if value is not None:
            _settings_only(c, value, "git_source" if field == "git" else field,
                           getattr(value, "location", None) or job.location)
    if getattr(job, "extra", None):
        _settings_only(c, dict(job.extra), "settings", job.location)
