"""A tiny pretty printer for generated Python: expressions as trees, laid out like hand-written code.

An expression that fits stays on one line; one that does not opens its brackets one item per line with a trailing
comma (the layout black and ruff choose), recursively; a string too long for its line becomes a parenthesised
implicit concatenation.  Lines stay within :data:`WIDTH` except for an atom that cannot be split (a very long
name), which is rare in generated job code.  Strings use double quotes, as the project's own code does.
"""

from __future__ import annotations

from typing import Sequence

WIDTH = 100
_INDENT = "    "


def string(value: str) -> str:
    """A double-quoted Python literal for ``value``."""
    text = repr(value)
    if text[0] == "'" and '"' not in value:
        text = '"' + text[1:-1].replace("\\'", "'") + '"'
    return text


class Node:
    def flat(self) -> str:
        raise NotImplementedError

    def render(self, col: int, base: int, trailer: int = 0) -> str:
        """The text starting at column ``col`` (the first line is not indented) of a statement indented by
        ``base``, with ``trailer`` characters following it on its last line."""
        return self.flat()


class Atom(Node):
    def __init__(self, text: str) -> None:
        self.text = text

    def flat(self) -> str:
        return self.text


class Str(Node):
    """A string literal, split over lines when it does not fit."""

    def __init__(self, value: str) -> None:
        self.value = value

    def flat(self) -> str:
        return string(self.value)

    def render(self, col: int, base: int, trailer: int = 0) -> str:
        text = self.flat()
        room = WIDTH - base - len(_INDENT)
        if col + len(text) + trailer <= WIDTH or room < 30:
            return text
        chunks, rest = [], self.value
        while rest:
            cut = len(rest) if len(string(rest)) <= room else _cut(rest, room)
            chunks.append(rest[:cut])
            rest = rest[cut:]
        pad = " " * (base + len(_INDENT))
        return "(\n" + "\n".join(pad + string(c) for c in chunks) + "\n" + " " * base + ")"


def _cut(text: str, room: int) -> int:
    """Where to cut ``text`` so that its literal fits ``room``: after a separator when one is near the end."""
    cut = room
    while cut > 1 and len(string(text[:cut])) > room:
        cut -= 1
    for sep in ("/", " ", ".", "_", ","):
        at = text.rfind(sep, max(1, cut - 30), cut)
        if at > 0:
            return at + 1
    return cut


class Kw(Node):
    def __init__(self, name: str, value: Node) -> None:
        self.name, self.value = name, value

    def flat(self) -> str:
        return f"{self.name}={self.value.flat()}"

    def render(self, col: int, base: int, trailer: int = 0) -> str:
        return f"{self.name}=" + self.value.render(col + len(self.name) + 1, base, trailer)


class Pair(Node):
    def __init__(self, key: Node, value: Node) -> None:
        self.key, self.value = key, value

    def flat(self) -> str:
        return f"{self.key.flat()}: {self.value.flat()}"

    def render(self, col: int, base: int, trailer: int = 0) -> str:
        head = self.key.flat() + ": "
        return head + self.value.render(col + len(head), base, trailer)


class Group(Node):
    """``open items close``: a call (``open`` = ``"name("``), a list, a dict or a tuple."""

    def __init__(self, open: str, items: Sequence[Node], close: str, *, one_tuple: bool = False) -> None:
        self.open, self.items, self.close = open, list(items), close
        self.one_tuple = one_tuple

    def flat(self) -> str:
        inner = ", ".join(i.flat() for i in self.items)
        if self.one_tuple and len(self.items) == 1:
            inner += ","
        return f"{self.open}{inner}{self.close}"

    def render(self, col: int, base: int, trailer: int = 0) -> str:
        text = self.flat()
        if col + len(text) + trailer <= WIDTH or not self.items:
            return text
        inner = base + len(_INDENT)
        lines = [" " * inner + item.render(inner, inner, 1) + "," for item in self.items]
        return self.open + "\n" + "\n".join(lines) + "\n" + " " * base + self.close


def call(name: str, *args: Node) -> Group:
    return Group(f"{name}(", args, ")")


def statement(node: Node, indent: int = 0, prefix: str = "") -> str:
    """One statement at ``indent``: ``prefix`` (``"name = "``) then the expression."""
    return " " * indent + prefix + node.render(indent + len(prefix), indent)
