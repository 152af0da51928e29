"""Named parameter markers (``:name``) in Databricks SQL text, told apart from the other uses of a colon.

Databricks SQL's grammar has three colons besides a marker, and a marker check that flags them is a false
positive that blocks a valid project:

- ``::`` is a cast (``amount::decimal(10,2)``);
- ``expr:path`` extracts from JSON or a VARIANT (``raw:customer.id``, ``col:['a b']``, ``c1:item[*].price``): in
  the grammar it is ``primaryExpression ':' path``, so a colon right after an operand (an identifier that is not
  a keyword, a closing ``)`` / ``]``, a quoted identifier or a string literal) starts a JSON path, spaces or
  not, while a colon where an operand may *begin* (after an operator, ``(``, ``,``, a keyword or at the start)
  is a named parameter marker ``:name``;
- ``${name}`` (and ``${hivevar:name}``) is variable substitution, not a marker.

String literals (``'...'``, ``"..."``, with ``\\`` escapes and doubled quotes), ``--`` and ``/* */`` comments and
backquoted identifiers never hold markers.
"""

from __future__ import annotations

import re

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|`(?:[^`]|``)+`")
_WORD_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*$")

# Keywords after which an expression may begin: a colon there is a parameter marker (``WHERE id = :id`` is caught
# by the ``=``; ``SELECT :x``, ``LIMIT :n``, ``THEN :a`` by these).  Every other word before a colon is an operand
# (a column, an alias), so the colon is the JSON path operator.
_EXPRESSION_KEYWORDS = frozenset("""
    all and any as between by case default distinct div else escape exists filter from having identifier ilike in
    interval is like limit not offset on or qualify return rlike select set some tablesample then to using values
    when where with
""".split())


def sql_markers(sql: str) -> list[tuple[str, int]]:
    """``(name, offset)`` of every named parameter marker in ``sql``."""
    out: list[tuple[str, int]] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"`":
            i = _after_quoted(sql, i)
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j
        elif c == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "$" and sql.startswith("${", i):
            j = sql.find("}", i + 2)
            i = n if j < 0 else j + 1
        elif c == ":":
            if sql.startswith("::", i):  # a cast
                i += 2
                continue
            m = _IDENT.match(sql, i + 1)
            if m and _operand_may_start(sql, i):
                out.append((m.group(0).strip("`"), i))
                i = m.end()
            else:  # a JSON path (or a stray colon): skip the colon, scan on
                i += 1
        else:
            i += 1
    return out


def _after_quoted(sql: str, start: int) -> int:
    """The offset after the string literal or quoted identifier starting at ``start``."""
    quote, j, n = sql[start], start + 1, len(sql)
    while j < n:
        if sql[j] == "\\" and quote != "`":
            j += 2
            continue
        if sql[j] == quote:
            if j + 1 < n and sql[j + 1] == quote:  # a doubled quote stands for itself
                j += 2
                continue
            return j + 1
        j += 1
    return n


def _operand_may_start(sql: str, colon: int) -> bool:
    """Whether an expression may begin at ``colon`` (then ``:name`` is a marker), judged by what precedes it,
    skipping spaces and comments."""
    before = _code_before(sql, colon)
    if not before:
        return True
    last = before[-1]
    if last in ")]'\"`\\":  # after an operand: JSON path (and an escaped colon is no marker)
        return False
    if last.isalnum() or last == "_":
        word = _WORD_BEFORE.search(before)
        if word is None:  # a number: ``5:x`` is no marker either
            return False
        return word.group(1).lower() in _EXPRESSION_KEYWORDS
    return True  # an operator, "(", ",", ";", "\\", ...


def _code_before(sql: str, end: int) -> str:
    """``sql[:end]`` without trailing spaces and ``--`` / ``/* */`` comments (what the parser saw last)."""
    text = sql[max(0, end - 4096):end].rstrip()  # what precedes a colon is near it; keeps long files linear
    while True:
        if text.endswith("*/"):
            start = text.rfind("/*")
            if start < 0:
                return text
            text = text[:start].rstrip()
            continue
        line_start = text.rfind("\n") + 1
        comment = _line_comment(text, line_start)
        if comment is None:
            return text
        text = text[:comment].rstrip()


def _line_comment(text: str, line_start: int) -> int | None:
    """Where a ``--`` comment starts on the last line of ``text`` (outside quotes), if it has one."""
    i, n = line_start, len(text)
    while i < n:
        c = text[i]
        if c in "'\"`":
            i = _after_quoted(text, i)
        elif text.startswith("--", i):
            return i
        else:
            i += 1
    return None
