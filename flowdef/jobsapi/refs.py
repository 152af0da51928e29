"""The ``{{...}}`` dynamic value reference grammar of the Jobs API: one parser and one filler.

Validation (is every reference well formed, does it name something that exists), the DSL's typed references,
deploy, the fake workspace's runs and the local engine all read references through this module:

- :func:`find_refs` / :func:`classify`: every ``{{...}}`` in a string, classified against the real namespaces;
- :func:`substitute`: a string with the references a caller can answer replaced (the others left as literal
  text, as the service leaves what it cannot resolve);
- :func:`quote_name`: a name as it must be written inside a reference.

Standard library only.  Deploy-time placeholders (``${flowdef.jobs.<key>.id}``) are a different, flowdef-only
grammar: :mod:`flowdef.jobsapi.placeholders`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping

from flowdef._frozen import frozen

_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+\Z")


def quote_name(name: str) -> str:
    """Databricks requires backticks around names with characters other than letters, digits and ``_``."""
    return name if _PLAIN_NAME.match(name) else f"`{name}`"


# --------------------------------------------------------------------------------------------------------------
# Parsing references found in strings
#
# What the service does with ``{{...}}`` (jobs-api.md section 8): references are substituted as plain text when
# the task runs; names other than letters/digits/'_' must be wrapped in backticks; no expressions; a malformed
# reference (missing brace, stray brace, bad characters) or an unknown name is *silently left as literal text*,
# while an invalid name in a known namespace (``{{job.naem}}``) is rejected.  flowdef reports all of them.


@frozen
class ParsedRef:
    """One ``{{...}}`` occurrence.

    ``kind`` is the namespace: ``job``, ``job.parameters``, ``task``, ``tasks``, ``tasks.values``, ``workspace``,
    ``input``, ``secret``; or ``malformed`` (not a reference at all: the service leaves it as literal text),
    ``unknown`` (a name the namespace does not have) or ``deprecated`` (an old undotted form).  ``parts`` are
    the dotted names with backticks removed (``("tasks", "my-task", "values", "rows")``); ``problem`` says what
    is wrong, for the three bad kinds.
    """

    text: str
    kind: str
    parts: tuple[str, ...] = ()
    problem: str = ""


_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_]+")
_LOOSE_SEGMENT = re.compile(r"[\w\-@#$%:]+")  # a name that needs backticks (not an expression)
_SECRET_SCOPE = re.compile(r"[A-Za-z0-9_\-@.]{1,128}\Z")
_SECRET_KEY = re.compile(r"[A-Za-z0-9_\-.]{1,128}\Z")

_JOB_SIMPLE = {"id", "name", "run_id", "repair_count"}
_TIME_ARGS = {
    "iso_date", "iso_datetime", "year", "month", "day", "hour", "minute", "second",
    "timestamp_ms", "iso_weekday", "is_weekday",
}
_TASK_SIMPLE = {"name", "run_id", "execution_count", "notebook_path"}
_TASKS_FIELDS = {"run_id", "result_state", "error_code", "execution_count"}
_WORKSPACE = {"id", "url"}
_DEPRECATED = {
    "job_id": "{{job.id}}", "run_id": "{{job.run_id}}", "start_date": "{{job.start_time.iso_date}}",
    "start_time": "{{job.start_time.timestamp_ms}}", "task_retry_count": "{{task.execution_count}}",
    "parent_run_id": "{{job.run_id}}", "task_key": "{{task.name}}",
}
_NAMESPACES = ("job", "task", "tasks", "workspace", "input")

_NO_EXPRESSIONS = (
    "not a valid reference: a reference is dotted names (letters, digits and '_'; wrap other names in "
    "backticks), with no spaces, expressions or functions"
)


def _split(expr: str) -> tuple[tuple[str, ...] | None, str]:
    """Dotted names of a reference, backticks removed; ``(None, problem)`` when it is not one."""
    parts: list[str] = []
    pos, n = 0, len(expr)
    while True:
        if pos < n and expr[pos] == "`":
            end = expr.find("`", pos + 1)
            if end < 0:
                return None, "unterminated backtick: a quoted name is written `like-this`"
            if end == pos + 1:
                return None, "empty name in backticks"
            parts.append(expr[pos + 1:end])
            pos = end + 1
        else:
            m = _PLAIN_SEGMENT.match(expr, pos)
            if not m:
                return None, ("empty name (two dots in a row, or a leading/trailing dot)" if pos == n or
                              expr[pos] == "." else _NO_EXPRESSIONS)
            end = m.end()
            if end < n and expr[end] not in ".":
                loose = _LOOSE_SEGMENT.match(expr, pos)
                if loose and (loose.end() == n or expr[loose.end()] == "."):
                    name = loose.group(0)
                    return None, (f"the name {name!r} has characters other than letters, digits and '_': "
                                  f"write it in backticks, `{name}`")
                return None, _NO_EXPRESSIONS
            parts.append(m.group(0))
            pos = end
        if pos == n:
            return tuple(parts), ""
        if expr[pos] != ".":
            return None, _NO_EXPRESSIONS
        pos += 1
        if pos == n:
            return None, "empty name (two dots in a row, or a leading/trailing dot)"


def classify(inner: str) -> ParsedRef:
    """Classify the text between ``{{`` and ``}}`` (surrounding spaces are tolerated)."""
    text = "{{" + inner + "}}"
    expr = inner.strip()
    if not expr:
        return ParsedRef(text, "malformed", problem="empty reference")
    if expr.startswith("secrets/") or expr == "secrets":
        bits = expr.split("/")
        if len(bits) != 3 or not bits[1] or not bits[2]:
            return ParsedRef(text, "malformed", problem="a secret reference is {{secrets/<scope>/<key>}}")
        scope, key = bits[1], bits[2]
        if not _SECRET_SCOPE.match(scope):
            return ParsedRef(text, "malformed", ("secrets", scope, key),
                             f"secret scope {scope!r} is invalid: 1-128 letters, digits, '_', '-', '@' or '.'")
        if not _SECRET_KEY.match(key):
            return ParsedRef(text, "malformed", ("secrets", scope, key),
                             f"secret key {key!r} is invalid: 1-128 letters, digits, '_', '-' or '.'")
        return ParsedRef(text, "secret", ("secrets", scope, key))
    parts, problem = _split(expr)
    if parts is None:
        return ParsedRef(text, "malformed", problem=problem)
    head = parts[0]
    n = len(parts)
    if head == "job":
        if n == 2 and parts[1] in _JOB_SIMPLE:
            return ParsedRef(text, "job", parts)
        if n == 3 and parts[1] == "parameters":
            return ParsedRef(text, "job.parameters", parts)
        if n == 3 and parts[1] == "start_time" and parts[2] in _TIME_ARGS:
            return ParsedRef(text, "job", parts)
        if n == 4 and parts[1:3] == ("trigger", "time") and parts[3] in _TIME_ARGS:
            return ParsedRef(text, "job", parts)
        if parts[1:] == ("trigger", "type") or parts[1:] == ("trigger", "file_arrival", "location"):
            return ParsedRef(text, "job", parts)
        if n >= 3 and parts[1:3] == ("trigger", "table_update"):
            return ParsedRef(text, "job", parts)
        return ParsedRef(
            text, "unknown", parts,
            "unknown job reference; valid: job.id, job.name, job.run_id, job.repair_count, job.parameters.<name>, "
            "job.start_time.<arg>, job.trigger.time.<arg>, job.trigger.type, job.trigger.file_arrival.location "
            f"(<arg>: {', '.join(sorted(_TIME_ARGS))})" + _job_hint(parts),
        )
    if head == "task":
        if n == 2 and parts[1] in _TASK_SIMPLE:
            return ParsedRef(text, "task", parts)
        return ParsedRef(text, "unknown", parts, "unknown task reference; valid: " + ", ".join(
            "task." + s for s in sorted(_TASK_SIMPLE)) + _near(parts, 1, _TASK_SIMPLE))
    if head == "tasks":
        if n == 3 and parts[2] in _TASKS_FIELDS:
            return ParsedRef(text, "tasks", parts)
        if n == 4 and parts[2] == "values":
            return ParsedRef(text, "tasks.values", parts)
        if n >= 3 and parts[2] == "output":
            return ParsedRef(text, "tasks", parts)
        return ParsedRef(
            text, "unknown", parts,
            "unknown task reference; valid: tasks.<task>.values.<key>, tasks.<task>.run_id, "
            "tasks.<task>.result_state, tasks.<task>.error_code, tasks.<task>.execution_count"
            + _near(parts, 2, _TASKS_FIELDS | {"values", "output"}),
        )
    if head == "workspace":
        if n == 2 and parts[1] in _WORKSPACE:
            return ParsedRef(text, "workspace", parts)
        return ParsedRef(text, "unknown", parts, "unknown workspace reference; valid: workspace.id, workspace.url")
    if head == "input":
        if n <= 2:
            return ParsedRef(text, "input", parts)
        return ParsedRef(text, "unknown", parts,
                         "unknown input reference; valid: {{input}} (the element) and {{input.<key>}} (a field)")
    if n == 1 and head in _DEPRECATED:
        return ParsedRef(text, "deprecated", parts, f"deprecated reference; use {_DEPRECATED[head]}")
    return ParsedRef(
        text, "unknown", parts,
        "unknown namespace; references start with job., task., tasks.<task>., workspace., input or secrets/"
        + _near(parts, 0, set(_NAMESPACES)),
    )


def _job_hint(parts: tuple[str, ...]) -> str:
    if len(parts) == 3 and parts[1] == "start_time":
        return _near(parts, 2, _TIME_ARGS)
    if len(parts) == 4 and parts[1:3] == ("trigger", "time"):
        return _near(parts, 3, _TIME_ARGS)
    return _near(parts, 1, _JOB_SIMPLE | {"parameters", "start_time", "trigger"})


def _near(parts: tuple[str, ...], i: int, options: set[str]) -> str:
    if len(parts) <= i:
        return ""
    import difflib

    close = difflib.get_close_matches(parts[i], sorted(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _close(value: str, start: int) -> tuple[int, int]:
    """From just after a ``{{``: ``(index of the closing '}}', index of a nested '{{')``, -1 when absent.
    A backtick-quoted name may hold braces."""
    j, n = start, len(value)
    while j < n:
        c = value[j]
        if c == "`":
            k = value.find("`", j + 1)
            if k < 0:  # unterminated backtick: let the parser explain, find the braces plainly
                end, nested = value.find("}}", j), value.find("{{", j)
                if nested >= 0 and (end < 0 or nested < end):
                    return -1, nested
                return end, -1
            j = k + 1
            continue
        if c == "}" and value.startswith("}}", j):
            return j, -1
        if c == "{" and value.startswith("{{", j):
            return -1, j
        j += 1
    return -1, -1


def find_refs(value: str) -> tuple[ParsedRef, ...]:
    """Every reference in ``value``, plus ``malformed`` entries for stray or unbalanced braces.

    ``"{{job.id"`` (no closing braces), ``"job.id}}"`` (no opening braces), ``"{{ {{job.id}} }}"`` (a
    reference inside another) are malformed: the service would leave such text as is."""
    if "{{" not in value and "}}" not in value:
        return ()
    return _refs(str.__str__(value))


@functools.lru_cache(maxsize=4096)
def _refs(value: str) -> tuple[ParsedRef, ...]:
    return tuple(ref for _, _, ref in _spans(value))


# Cached by text: the same few references (``{{job.parameters.catalog}}``) recur in most tasks.  The key is a plain
# ``str`` (typed references are str subclasses that carry a location; the cache must not keep those alive).
@functools.lru_cache(maxsize=4096)
def _spans(value: str) -> tuple[tuple[int, int, ParsedRef], ...]:
    """``(start, end, ref)`` of every ``{{...}}`` (and every stray brace pair), in order."""
    found: list[tuple[int, int, ParsedRef]] = []
    i, n = 0, len(value)
    while i < n:
        opening = value.find("{{", i)
        closing = value.find("}}", i)
        if opening < 0 and closing < 0:
            break
        if closing >= 0 and (opening < 0 or closing < opening):
            found.append((closing, closing + 2, ParsedRef(_excerpt(value, closing, closing + 2), "malformed",
                                                          problem="'}}' without a matching '{{'")))
            i = closing + 2
            continue
        end, nested = _close(value, opening + 2)
        if end < 0:
            stop = nested if nested >= 0 else n
            found.append((opening, stop, ParsedRef(_excerpt(value, opening, stop), "malformed",
                                                   problem="'{{' without a matching '}}'")))
            if nested < 0:
                break
            i = nested
            continue
        found.append((opening, end + 2, classify(value[opening + 2:end])))
        i = end + 2
    return tuple(found)


def substitute(value: str, value_of: Callable[[ParsedRef], str | None]) -> str:
    """``value`` with each well-formed reference replaced by ``value_of(ref)``; a reference for which it returns
    None, and every malformed one, stays as literal text (what the service does with what it cannot resolve).

    One pass, by position: a substituted text that itself contains ``{{...}}`` is not expanded again.

    >>> substitute("{{job.id}}-{{nope}}", lambda r: "7" if r.kind == "job" else None)
    '7-{{nope}}'
    """
    text = str.__str__(value)
    if "{{" not in text:
        return text
    out: list[str] = []
    pos = 0
    for start, end, ref in _spans(text):
        if ref.kind == "malformed":
            continue
        replacement = value_of(ref)
        if replacement is not None:
            out.append(text[pos:start])
            out.append(replacement)
            pos = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def _excerpt(value: str, start: int, stop: int, width: int = 40) -> str:
    text = value[start:stop]
    return text if len(text) <= width else text[:width] + "..."


def is_single_ref(value: str) -> bool:
    """True when ``value`` is exactly one well-formed reference (e.g. ``"{{tasks.t.values.ids}}"``)."""
    v = value.strip()
    if not (v.startswith("{{") and v.endswith("}}")):
        return False
    refs = find_refs(v)
    return len(refs) == 1 and refs[0].kind not in ("malformed",) and len(refs[0].text) == len(v)


def fill_job_parameters(value: str, values: Mapping[str, str]) -> str:
    """``{{job.parameters.<name>}}`` replaced by ``values[name]`` where ``values`` has it, the rest left as is:
    what a trigger's path or table name means before any run exists (the parameter's value for the target)."""
    return substitute(value, lambda ref: values.get(ref.parts[2]) if ref.kind == "job.parameters" else None)
