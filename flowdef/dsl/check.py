"""The boundary check of each task kind's own arguments (``path``, ``warehouse``, ``params``, ``full_refresh``, ...).

The options every task shares are checked by ``Job._spec``; the kind-specific arguments are checked here, from the
kind's field annotations (``str``, ``str | None``, ``bool``, ``int | None``, ``tuple[str, ...]``, pairs of
strings), so every kind, including one added later, is covered by the same rule without a list to keep in sync.
A wrong value is an FD601 at the declaring line, naming the DSL argument, and is replaced by the field's default.
"""

from __future__ import annotations

from typing import Any

import attrs

from flowdef._check import BOOL, INT, OPT_BOOL, OPT_INT, OPT_STR, STR, Expect, wrong_type
from flowdef._location import Location

# model field -> the keyword the DSL method takes for it
_ARGUMENT = {
    "warehouse_id": "warehouse", "parameters": "params", "named_parameters": "params", "job_parameters": "params",
    "template_vars": "vars", "template": "template", "notebook_name": "notebook", "clean_room_name": "clean_room",
    "connection_resource_name": "connection", "pause_subscriptions": "pause_subscriptions",
}

_STR_TUPLE = Expect("a list of strings", lambda v: isinstance(v, tuple) and all(isinstance(x, str) for x in v))
_STR_PAIRS = Expect("a dict of name -> string", lambda v: isinstance(v, tuple) and all(
    isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], str) for p in v))
_NAMED_PAIRS = Expect("a dict of name -> value", lambda v: isinstance(v, tuple) and all(
    isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in v))

_BY_ANNOTATION: dict[str, Expect] = {
    "str": STR, "str | None": OPT_STR, "bool": BOOL, "bool | None": OPT_BOOL, "int": INT, "int | None": OPT_INT,
    "tuple[str, ...]": _STR_TUPLE, "tuple[tuple[str, str], ...]": _STR_PAIRS,
    "tuple[tuple[str, object], ...]": _NAMED_PAIRS,
}
_NEUTRAL = {STR: "", BOOL: False, INT: 0}

_CHECKS: dict[type, tuple[tuple[str, Expect, Any], ...]] = {}


def _checks(cls: type) -> tuple[tuple[str, Expect, Any], ...]:
    """(field, expected type, replacement) for the fields of a kind class whose annotation says a plain type."""
    found = _CHECKS.get(cls)
    if found is None:
        rows = []
        for field in attrs.fields(cls):
            annotation = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
            expect = _BY_ANNOTATION.get(annotation.replace("Optional[str]", "str | None"))
            if expect is None:
                continue  # nested values (subscribers, tables, a task) are checked by their own classes
            default = field.default
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                default = default.factory()  # type: ignore[union-attr]
            elif default is attrs.NOTHING:
                default = _NEUTRAL.get(expect, ())
            rows.append((field.name, expect, default))
        found = _CHECKS[cls] = tuple(rows)
    return found


def _pairs_ok(v: Any, any_value: bool) -> bool:
    """The exact-type fast accept of a tuple of ``(name, value)`` pairs (what the DSL's converters build)."""
    if v.__class__ is not tuple:
        return False
    for p in v:
        if p.__class__ is not tuple or len(p) != 2 or p[0].__class__ is not str:
            return False
        if not any_value and p[1].__class__ is not str:
            return False
    return True


# The exact types that accept a value at once, per expected type (a value of another type -- a str subclass, a
# list where a tuple is stored -- falls through to the expected type's own test, so nothing is accepted that the
# test would refuse).  Pairs and lists of strings have their own fast loops.
_EXACT: dict[Expect, frozenset[type]] = {
    STR: frozenset({str}), OPT_STR: frozenset({str, type(None)}), BOOL: frozenset({bool}),
    OPT_BOOL: frozenset({bool, type(None)}), INT: frozenset({int}), OPT_INT: frozenset({int, type(None)}),
}
_PAIRS, _NAMED, _STRS = 1, 2, 3
_FAST_LOOP = {_STR_PAIRS: _PAIRS, _NAMED_PAIRS: _NAMED, _STR_TUPLE: _STRS}
# kind class -> (field, expected type, replacement, exact types or None, fast loop or 0), computed once per class
_ROWS: dict[type, tuple[tuple[str, Expect, Any, frozenset[type] | None, int], ...]] = {}


def _rows(cls: type) -> tuple[tuple[str, Expect, Any, frozenset[type] | None, int], ...]:
    rows = _ROWS[cls] = tuple((name, expect, default, _EXACT.get(expect), _FAST_LOOP.get(expect, 0))
                              for name, expect, default in _checks(cls))
    return rows


def check_kind(kind: Any, key: str, location: Location | None) -> None:
    """Each plain field of a freshly built task kind against its annotation; a wrong one is reported (FD601) and
    replaced in place (the kind was just made for this task and is not shared yet)."""
    cls = type(kind)
    rows = _ROWS.get(cls)
    if rows is None:
        if not attrs.has(cls):
            return
        rows = _rows(cls)
    for name, expect, default, exact, loop in rows:
        value = getattr(kind, name)
        # fast accept of the common correct values; anything else gets the expected type's full test below
        if exact is not None:
            if value.__class__ in exact:
                continue
        elif loop == _STRS:
            if value.__class__ is tuple and all(x.__class__ is str for x in value):
                continue
        elif loop and _pairs_ok(value, loop == _NAMED):
            continue
        if expect.test(value):
            continue
        what = getattr(cls, "KIND", cls.__name__)
        wrong_type(f"task {key!r} ({what}): {_ARGUMENT.get(name, name)}=", expect, value, location)
        object.__setattr__(kind, name, default)
