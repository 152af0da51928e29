"""Problems only the source shows: a duplicate key in a dict literal (``params={"a": 1, "a": 2}``).

Python keeps the last value of a repeated key without a word, so by the time the DSL sees the dict the first
value is gone; the source is the only place the mistake is visible.  Every dict literal of a pipelines module is
checked (a job's ``params``, ``tags``, a task's ``params``/``vars``, a ``spark_conf``, or a dict assigned to a
name and passed later): a repeated constant key is always a slip.
"""

from __future__ import annotations

import ast
from pathlib import Path

from flowdef._location import Location
from flowdef.diagnostics import Diagnostic, diag


def duplicate_keys(path: Path, source: str | None = None) -> list[Diagnostic]:
    """FD605 for every constant key repeated in one dict literal of the file, at the repeated key."""
    try:
        text = source if source is not None else path.read_text(encoding="utf-8")
        if "{" not in text:
            return []
        tree = ast.parse(text, filename=str(path))
    except (OSError, SyntaxError, ValueError):  # the import reported it already
        return []
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        first: dict[object, ast.expr] = {}
        for key in node.keys:
            if not isinstance(key, ast.Constant):  # ``**other`` (None) or a computed key: not visible here
                continue
            try:
                seen = first.get(key.value)
            except TypeError:  # an unhashable constant cannot be a key anyway
                continue
            if seen is None:
                first[key.value] = key
                continue
            out.append(diag(
                "FD605",
                f"key {key.value!r} appears twice in this dict literal (first at line {seen.lineno}): Python keeps "
                "only the last value and drops the first without a word; remove or rename one",
                Location(str(path), key.lineno, key.col_offset + 1),
            ))
    return out
