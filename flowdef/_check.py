"""The one boundary check of the DSL: every public constructor and DSL argument is checked against its expected
Python type where the user passes it, and a wrong value becomes a diagnostic at the user's line.

Two rules, the same for every argument:

- **No coercion.**  ``disabled="no"`` is not ``True`` and ``"60"`` is not ``60``: the value is reported (FD601,
  naming the argument, the expected type and the value) and replaced by the argument's default, so the rest of the
  job still loads and every other problem is still reported.  An error diagnostic means nothing is compiled, so
  the replacement never reaches a payload.
- **Collect, don't raise.**  While the loader imports a pipelines module it opens a :class:`Collector`; problems
  go there.  Outside a loader (a script, a unit test) there is nobody to collect them, so the first one raises
  :class:`~flowdef.errors.DefinitionError`, with the same message and location.

The collector also records every :class:`~flowdef.Job` created while a module is imported (``register_job``), so a
job built in a loop or a function, or assigned to a variable that is then reused, is never lost.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping

import attrs

from flowdef._location import Location, caller_location
from flowdef.diagnostics import Diagnostic, diag
from flowdef.errors import DefinitionError


# ----------------------------------------------------------------------------------------------------------------
# expected types


class Expect:
    """An expected type: ``what`` is how messages name it, ``test`` accepts a value."""

    __slots__ = ("what", "test")

    def __init__(self, what: str, test: Callable[[Any], bool]) -> None:
        self.what = what
        self.test = test

    def __repr__(self) -> str:
        return f"<expect {self.what}>"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool))


def _is_str_seq(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v)


STR = Expect("a string", lambda v: isinstance(v, str))
INT = Expect("an int", _is_int)
NUMBER = Expect("a number", _is_number)
BOOL = Expect("True or False", lambda v: isinstance(v, bool))
# a single string, or a list of strings (``dependencies="pandas"`` reads as one requirement)
STRS = Expect("a list of strings", lambda v: isinstance(v, str) or _is_str_seq(v))
STR_LIST = Expect("a list of strings", _is_str_seq)
# name -> value tables (tags, spark_conf, params): a dict with string keys and plain values
STR_MAP = Expect(
    "a dict of name -> string",
    lambda v: isinstance(v, Mapping) and all(isinstance(k, str) and _is_scalar(x) for k, x in v.items()),
)
ANY_MAP = Expect("a dict", lambda v: isinstance(v, Mapping) and all(isinstance(k, str) for k in v))


def optional(expect: Expect) -> Expect:
    return Expect(f"{expect.what} or None", lambda v: v is None or expect.test(v))


def either(*expects: Expect) -> Expect:
    return Expect(" or ".join(e.what for e in expects), lambda v: any(e.test(v) for e in expects))


def instance(types: type | tuple[type, ...], what: str) -> Expect:
    return Expect(what, lambda v: isinstance(v, types))


def list_of(types: type | tuple[type, ...], what: str) -> Expect:
    """A list (or tuple) whose items are instances of ``types``; a single instance is accepted too."""
    return Expect(what, lambda v: isinstance(v, types) or (
        isinstance(v, (list, tuple)) and all(isinstance(x, types) for x in v)))


OPT_STR = optional(STR)
OPT_INT = optional(INT)
OPT_NUMBER = optional(NUMBER)
OPT_BOOL = optional(BOOL)


def show(value: Any) -> str:
    """``int 5``, ``str '60'``, ``list ['a']``: the type and the value, shortened."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


# ----------------------------------------------------------------------------------------------------------------
# where problems go


class Collector:
    """What one module import produced: its jobs (in creation order) and the problems found at the boundary."""

    def __init__(self, module_files: frozenset[str] = frozenset()) -> None:
        # the pipeline files being loaded: a job belongs to the innermost of them on the stack when it is created
        self.module_files = module_files
        self.jobs: list[tuple[Any, str | None]] = []  # (job, the pipeline file that created it)
        self.diagnostics: list[Diagnostic] = []


_ACTIVE: list[Collector] = []
_REAL: dict[str, str] = {}
_RESOLVED: dict[frozenset[str], frozenset[str]] = {}


def _real(filename: str) -> str:
    real = _REAL.get(filename)
    if real is None:
        real = _REAL[filename] = os.path.realpath(filename)
    return real


@contextmanager
def collecting(module_files: frozenset[str] = frozenset()) -> Iterator[Collector]:
    """Collect the problems and jobs of the code run inside (the loader wraps each module import in one)."""
    resolved = _RESOLVED.get(module_files)  # the loader passes the same set for each of its modules
    if resolved is None:
        resolved = frozenset(_real(f) for f in module_files)
        _RESOLVED.clear()  # keep one: the current loader's
        _RESOLVED[module_files] = resolved
    collector = Collector(resolved)
    _ACTIVE.append(collector)
    try:
        yield collector
    finally:
        _ACTIVE.remove(collector)


def register_job(job: Any) -> None:
    """Called by ``Job.__init__``: remember the job and which pipeline file made it (none outside a loader)."""
    if not _ACTIVE:
        return
    collector = _ACTIVE[-1]
    owner = None
    if collector.module_files:
        frame = sys._getframe(1)
        while frame is not None:
            real = _real(frame.f_code.co_filename)
            if real in collector.module_files:
                owner = real
                break
            frame = frame.f_back  # type: ignore[assignment]
    collector.jobs.append((job, owner))


def report(code: str, message: str, location: Location | None = None) -> None:
    """One problem at the user's line: collected while a module is loaded, else raised."""
    location = location or caller_location()
    if _ACTIVE:
        _ACTIVE[-1].diagnostics.append(diag(code, message, location))
        return
    raise DefinitionError(message, location=location, code=code)


def collecting_now() -> bool:
    return bool(_ACTIVE)


# ----------------------------------------------------------------------------------------------------------------
# the checks


def wrong_type(argument: str, expect: Expect, value: Any, location: Location | None = None, hint: str = "") -> None:
    report("FD601", f"{argument} must be {expect.what}, got {show(value)}{hint}", location)


def check(value: Any, expect: Expect, argument: str, default: Any = None, location: Location | None = None,
          hint: str = "") -> Any:
    """``value`` when ``expect`` accepts it; else an FD601 (``argument`` must be ..., got ...) and ``default``."""
    if expect.test(value):
        return value
    wrong_type(argument, expect, value, location, hint)
    return default


def check_fields(obj: Any, fallback: Mapping[str, Any] | None = None, /, **expects: Expect) -> None:
    """For ``__attrs_post_init__`` of a model class: each named field against its expected type.  A wrong value is
    reported as ``Class(field=...)`` and replaced by the field's default (or by ``fallback[field]`` for a required
    field, a neutral value that draws no second diagnostic)."""
    cls = type(obj)
    for name, expect in expects.items():
        value = getattr(obj, name)
        if expect.test(value):
            continue
        wrong_type(f"{cls.__name__}({name}=...)", expect, value)
        object.__setattr__(obj, name, _replacement(cls, name, fallback))


def _replacement(cls: type, name: str, fallback: Mapping[str, Any] | None) -> Any:
    if fallback and name in fallback:
        return fallback[name]
    field = attrs.fields_dict(cls)[name]
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return default.factory()  # type: ignore[union-attr]
    if default is attrs.NOTHING:
        return None
    return default


def refuse_keywords(function: str, given: Mapping[str, Any], spelled: Mapping[str, str]) -> None:
    """Keywords a DSL function does not take: the one right spelling named when the user wrote another
    (``Cron.daily(tz=...)`` -> ``timezone=``), else the usual Python complaint, as a located DefinitionError."""
    for name in given:
        right = spelled.get(name)
        if right is not None:
            raise DefinitionError(
                f"{function} takes {right}=..., not {name}= (one spelling for every constructor of the same "
                f"thing): write {function.rsplit('(', 1)[0]}(..., {right}=...)",
                location=caller_location(), code="FD602")
        raise DefinitionError(f"{function} got an unexpected keyword argument {name!r}",
                              location=caller_location(), code="FD602")
