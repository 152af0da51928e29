"""Where each key of a TOML document is: ``{("targets", "prod", "mode"): 14, ...}``.

``tomllib`` gives values without positions, so config diagnostics used to point at the first line that mentioned
a key's name (the ``mode`` of the first target for a problem in the second).  This is a small scanner of TOML's
grammar (tables, arrays of tables, dotted and quoted keys, inline tables, arrays, every string form, comments)
that records the line of every key and of every value, by full key path.  It runs only when a config problem is
reported, on a document ``tomllib`` has already accepted, so it can assume the document is valid TOML.
"""

from __future__ import annotations

import re

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = re.compile(r"[,\]}\s#]")

Path = tuple[str, ...]


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.keys: dict[Path, int] = {}
        self.values: dict[Path, int] = {}
        self._array_tables: dict[Path, int] = {}

    # -- positions ------------------------------------------------------------------------------------------------

    def line(self, at: int | None = None) -> int:
        return self.text.count("\n", 0, self.i if at is None else at) + 1

    def skip(self, newlines: bool = True) -> None:
        """Whitespace and comments (and newlines, unless asked not to)."""
        text, n = self.text, len(self.text)
        while self.i < n:
            c = text[self.i]
            if c == "#":
                end = text.find("\n", self.i)
                self.i = n if end < 0 else end
            elif c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            else:
                return

    # -- grammar --------------------------------------------------------------------------------------------------

    def document(self) -> None:
        table: Path = ()
        n = len(self.text)
        while True:
            self.skip()
            if self.i >= n:
                return
            if self.text.startswith("[[", self.i):
                self.i += 2
                path = self.key_path("]]")
                self.i += 2
                index = self._array_tables.get(path, -1) + 1
                self._array_tables[path] = index
                table = (*path, str(index))
                for depth in range(1, len(path) + 1):
                    self.keys.setdefault(path[:depth], self.line())
                self.keys[table] = self.line()
            elif self.text[self.i] == "[":
                self.i += 1
                path = self.key_path("]")
                self.i += 1
                table = path
                for depth in range(1, len(path)):  # [a.b] defines a too (where it is first implied)
                    self.keys.setdefault(path[:depth], self.line())
                self.keys[table] = self.line()
            else:
                self.key_value(table)

    def key_path(self, end: str) -> Path:
        parts = []
        while True:
            self.skip(newlines=False)
            parts.append(self.key())
            self.skip(newlines=False)
            if self.text.startswith(".", self.i):
                self.i += 1
                continue
            if end and not self.text.startswith(end, self.i):  # pragma: no cover - tomllib accepted the text
                raise ValueError(f"expected {end!r} at line {self.line()}")
            return tuple(parts)

    def key(self) -> str:
        c = self.text[self.i]
        if c in "\"'":
            return self.string()
        m = _BARE.match(self.text, self.i)
        if not m:  # pragma: no cover
            raise ValueError(f"expected a key at line {self.line()}")
        self.i = m.end()
        return m.group(0)

    def key_value(self, table: Path) -> None:
        key_line = self.line()
        path = (*table, *self.key_path("="))
        self.i += 1  # "="
        for depth in range(len(table) + 1, len(path) + 1):  # dotted keys define their parent tables
            self.keys.setdefault(path[:depth], key_line)
        self.keys[path] = key_line
        self.skip(newlines=False)
        self.value(path)

    def value(self, path: Path) -> None:
        self.values[path] = self.line()
        c = self.text[self.i]
        if c in "\"'":
            self.string()
        elif c == "[":
            self.i += 1
            index = 0
            while True:
                self.skip()
                if self.text[self.i] == "]":
                    self.i += 1
                    return
                self.value((*path, str(index)))
                index += 1
                self.skip()
                if self.text[self.i] == ",":
                    self.i += 1
        elif c == "{":
            self.i += 1
            while True:
                self.skip(newlines=False)
                if self.text[self.i] == "}":
                    self.i += 1
                    return
                self.key_value(path)
                self.skip(newlines=False)
                if self.text[self.i] == ",":
                    self.i += 1
        else:  # number, bool, date: up to the next delimiter
            m = _SCALAR_END.search(self.text, self.i)
            # dates may hold one space ("1979-05-27 07:32:00"): tomllib has checked the value, so take digits on
            if m and self.text[m.start()] == " " and self.text[m.start() + 1:m.start() + 2].isdigit():
                m = _SCALAR_END.search(self.text, m.start() + 1)
            self.i = m.start() if m else len(self.text)

    def string(self) -> str:
        text, start = self.text, self.i
        quote = text[start]
        triple = text.startswith(quote * 3, start)
        if triple:
            end = start + 3
            while True:
                end = text.find(quote * 3, end)
                if quote == '"' and _escaped(text, end):
                    end += 1
                    continue
                break
            while text.startswith(quote, end + 3):  # up to two quotes may end the content
                end += 1
            self.i = end + 3
            return text[start + 3:end]
        end = start + 1
        while True:
            end = text.find(quote, end)
            if quote == '"' and _escaped(text, end):
                end += 1
                continue
            break
        self.i = end + 1
        raw = text[start + 1:end]
        if quote == '"' and "\\" in raw:
            import json

            try:
                return json.loads(f'"{raw}"')
            except ValueError:
                return raw
        return raw


def _escaped(text: str, at: int) -> bool:
    backslashes = 0
    while at - 1 - backslashes >= 0 and text[at - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def positions(text: str) -> tuple[dict[Path, int], dict[Path, int]]:
    """(line of each key, line of each value), by full key path; array items are paths ending in their index."""
    scanner = _Scanner(text)
    scanner.document()
    return scanner.keys, scanner.values
