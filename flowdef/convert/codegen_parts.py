"""Small writers for :mod:`flowdef.convert.codegen`: argument shapes, operands, cron named constructors.

Split from the writer so each file stays readable; each function takes the writer (``w``) for the values it
renders, and returns a :mod:`flowdef.convert.pysource` node (or ``None`` for "leave the option out").
"""

from __future__ import annotations

import re
from typing import Any

import attrs

import keyword

from flowdef.convert.pysource import Atom, Group, Kw, Node, Pair, Str, call, string
from flowdef.model.spec import JobSpec
from flowdef.model.triggers import Cron


def _chain(first: Group, second: Group, col: int) -> str:
    """``job.for_each(...).notebook(...)``: the nested task's call chained on the for-each handle."""
    flat = first.flat() + second.flat()
    if col + len(flat) <= 100:
        return flat
    head = first.render(col, 0)
    last_line = head.rsplit("\n", 1)[-1]
    return head + second.render(len(last_line), 0)


def _docstring(job: JobSpec) -> str:
    name = job.name.replace("\\", "/").replace('"""', "'''")
    return f"{name}\n\nImported by `python -m flowdef import`: review it, then make it yours.\n"


def _strings(value: Any):
    """Every string in a model value (tasks, kinds, settings), recursively."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif attrs.has(type(value)):
        for f in attrs.fields(type(value)):
            if f.name != "location":
                yield from _strings(getattr(value, f.name))


def _opt_str(value: str | None) -> Node | None:
    return Str(value) if value is not None else None


def _true(value: bool) -> Node | None:
    return Atom("True") if value else None


def _map(w: Any, pairs: tuple) -> Node | None:
    if not pairs:
        return None
    return Group("{", [Pair(Str(str(k)), _param_value(w, v)) for k, v in pairs], "}")


def _param_value(w: Any, v: Any) -> Node:
    return w.text(v) if isinstance(v, str) else w.value(v)


def _argv_node(w: Any, argv: list) -> Node | None:
    """Script arguments: ``--name value`` pairs read best as a dict (what the DSL turns back into them)."""
    if not argv:
        return None
    names = argv[::2]
    if len(argv) % 2 == 0 and all(isinstance(n, str) and n.startswith("--") and len(n) > 2 for n in names) \
            and len(set(names)) == len(names) and not any(str(v).startswith("--") for v in argv[1::2]):
        return Group("{", [Pair(Str(n[2:]), _param_value(w, v)) for n, v in zip(names, argv[1::2])], "}")
    return Group("[", [_param_value(w, a) for a in argv], "]")


def _subs(w: Any, subs: tuple) -> Node | None:
    if not subs:
        return None
    items: list[Node] = []
    for s in subs:
        if s.user_name is not None and s.destination_id is None and "@" in s.user_name:
            items.append(Str(s.user_name))
        elif s.destination_id is not None and s.user_name is None and "@" not in s.destination_id:
            items.append(Str(s.destination_id))
        else:
            items.append(w.model(s))
    return Group("[", items, "]")


def _operand(w: Any, text: str) -> Node:
    if re.fullmatch(r"-?[1-9][0-9]*|0", text):
        return Atom(text)
    return w.text(text)


def _inputs(w: Any, text: str) -> Node:
    import json

    try:
        parsed = json.loads(text)
    except ValueError:
        return w.text(text)
    if isinstance(parsed, list) and json.dumps(parsed, sort_keys=True, separators=(",", ":")) == text:
        return w.value(parsed)
    return w.text(text)


def _cron_forms(c: Cron) -> list[Node]:
    """``Cron.daily(...)`` and friends for the expressions they write, ``Cron(expr, ...)`` otherwise."""
    kw = []
    if c.timezone != "UTC":
        kw.append(Kw("timezone", Str(c.timezone)))
    if c.paused:
        kw.append(Kw("paused", Atom("True")))
    f = c.expression.split()
    out: list[Node] = []
    if len(f) == 6 and all(x.isdigit() for x in f[:3]):
        s, m, h = (int(x) for x in f[:3])
        at = f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")
        if f[3:] == ["*", "*", "?"]:
            out.append(call("Cron.daily", Kw("at", Str(at)), *kw))
        elif f[3:] == ["?", "*", "MON-FRI"]:
            out.append(call("Cron.weekdays", Kw("at", Str(at)), *kw))
        elif f[3] == "?" and f[4] == "*" and re.fullmatch(r"[A-Z]{3}(,[A-Z]{3})*", f[5]):
            days = f[5].split(",")
            on: Node = Str(days[0]) if len(days) == 1 else Group("(", [Str(d) for d in days], ")", one_tuple=True)
            out.append(call("Cron.weekly", Kw("on", on), Kw("at", Str(at)), *kw))
        elif f[4:] == ["*", "?"] and (f[3].isdigit() or f[3] == "L"):
            day = Atom(f[3]) if f[3].isdigit() else Str("L")
            out.append(call("Cron.monthly", Kw("day", day), Kw("at", Str(at)), *kw))
    if len(f) == 6 and f[0] == "0" and f[1].isdigit() and f[2:] == ["*", "*", "*", "?"]:
        out.append(call("Cron.hourly", Kw("minute", Atom(str(int(f[1])))), *kw))
    tz = [Kw("timezone", Str(c.timezone))] if c.timezone != "UTC" else []
    out.append(call("Cron", Str(c.expression), *tz, *([Kw("paused", Atom("True"))] if c.paused else [])))
    return out


class _Applied(Node):
    """``job.task(key=..., ...)(fn)`` laid out over lines: the call, then the function it is applied to."""

    def __init__(self, declared: Group, function: str) -> None:
        self.declared, self.function = declared, function

    def flat(self) -> str:
        return f"{self.declared.flat()}({self.function})"

    def render(self, col: int, base: int, trailer: int = 0) -> str:
        return self.declared.render(col, base, len(self.function) + 2) + f"({self.function})"


def _stub(name: str, decorators: list[str], job: JobSpec) -> str:
    return "\n".join([
        *decorators,
        f"def {name}(ctx: TaskContext) -> None:",
        "    # imported from a payload, which does not hold a function's body: write it here",
        f"    raise NotImplementedError({string(name + ': write the task body')})",
    ])


def identifier(key: str, taken: set[str]) -> str:
    """A readable, unique Python name for a task key."""
    name = re.sub(r"\W+", "_", key).strip("_").lower() or "task"
    if name[0].isdigit():
        name = "t_" + name
    if keyword.iskeyword(name) or name in ("job", "INPUT"):
        name += "_"
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _attr(name: str, owner: type) -> str:
    """``.name`` when it is a plain attribute name of ``owner``'s dynamic namespace, else ``["name"]``."""
    if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_") and not hasattr(owner, name):
        return "." + name
    return f"[{string(name)}]"
