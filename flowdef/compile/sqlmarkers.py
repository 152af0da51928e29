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

# One regex finds what matters to markers: quoted text, comments and ``${...}`` (skipped whole, they never hold
# a marker) and colons; the text between two finds is plain code, and its last word or character is what a colon
# right after it sees.  Every alternative starts with a literal character, so the regex engine skips to the next
# of those characters at C speed instead of trying each alternative at every offset.
_FIND = re.compile(r"""
      '(?:[^'\\]|\\(?:.|\Z)|'')*(?:'|\Z)          # quoted text: strings, and backquoted identifiers
    | "(?:[^"\\]|\\(?:.|\Z)|"")*(?:"|\Z)
    | `(?:[^`]|``)*(?:`|\Z)
    | --[^\n]*                                    # comments
    | /\*.*?(?:\*/|\Z)
    | \$\{[^}]*(?:\}|\Z)                          # variable substitution
    | ::                                          # a cast
    | :(?P<marker> [A-Za-z_][A-Za-z0-9_]* | `(?:[^`]|``)+` )?   # a marker, a JSON path or a stray colon
""", re.VERBOSE | re.DOTALL)
_WORD_END = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

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
    if ":" not in sql:
        return []
    out: list[tuple[str, int]] = []
    before = ""  # the code a colon sees before it: comments and spaces are not code
    end = 0
    for m in _FIND.finditer(sql):
        start = m.start()
        if start > end:
            plain = sql[end:start].rstrip()
            if plain:
                before = plain
        end = m.end()
        found = m.group(0)
        if found[0] in "-/":  # a comment is no code
            continue
        name = m.group("marker")
        if name is not None and _operand_may_start(before):
            out.append((name.strip("`"), start))
        # (after a JSON path ``raw:customer.id`` or a stray colon, the path's first word is what comes before)
        before = found
    return out


def _operand_may_start(before: str) -> bool:
    """Whether an expression may begin after the significant token ``before`` (then ``:name`` is a marker)."""
    if not before:
        return True
    last = before[-1]
    if last in ")]'\"`\\":  # after an operand: JSON path (and an escaped colon is no marker)
        return False
    if last.isalnum() or last == "_":
        word = _WORD_END.search(before)
        if word is None:  # a number: ``5:x`` is no marker either
            return False
        return word.group(0).lower() in _EXPRESSION_KEYWORDS
    return True  # an operator, "(", ",", ";", "}", ...
