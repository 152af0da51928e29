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


def check_kind(kind: Any, key: str, location: Location | None) -> None:
    """Each plain field of a freshly built task kind against its annotation; a wrong one is reported (FD601) and
    replaced in place (the kind was just made for this task and is not shared yet)."""
    cls = type(kind)
    if not attrs.has(cls):
        return
    for name, expect, default in _checks(cls):
        value = getattr(kind, name)
        if expect.test(value):
            continue
        what = getattr(cls, "KIND", cls.__name__)
        wrong_type(f"task {key!r} ({what}): {_ARGUMENT.get(name, name)}=", expect, value, location)
        object.__setattr__(kind, name, default)
