"""Problems only the source shows: a duplicate key in a dict literal (``params={"a": 1, "a": 2}``).

Python keeps the last value of a repeated key without a word, so by the time the DSL sees the dict the first
value is gone; the source is the only place the mistake is visible.  Every dict literal of a pipelines module is
checked (a job's ``params``, ``tags``, a task's ``params``/``vars``, a ``spark_conf``, or a dict assigned to a
name and passed later): a repeated constant key is always a slip.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any
from zlib import crc32

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


def _version() -> str:
    """The cache's validity key besides each file's stat: flowdef's version and this check's own revision."""
    import flowdef  # the package is imported by now; read at call time to avoid a cycle at import time

    return f"{getattr(flowdef, '__version__', '?')}/fd605-2"  # 2: entries keyed by content


class DuplicateKeyCache:
    """FD605 results kept between runs, like Python's .pyc files: re-parsing every pipelines module only to look
    at its dict literals costs more than importing it (the import reads the .pyc, not the source).

    One JSON file per project root under flowdef's cache folder (``$XDG_CACHE_HOME/flowdef`` or
    ``~/.cache/flowdef``, the jinja cache's parent), mapping each module's path to ``(size, crc32 of its bytes)``
    and its findings; an entry is used only when the file's content still matches and the cache was written by
    this flowdef version.  Keyed by content, not modification time (as jinja's bytecode cache is), so a CI job
    that restores the cache folder onto a fresh checkout, whose files all have new times, still uses it.
    ``FLOWDEF_NO_CACHE=1`` turns it off; an unreadable or unwritable cache just means every module is parsed."""

    def __init__(self, root: Path) -> None:
        self._file: str | None = None
        self._root = ""
        self._entries: dict[str, list[Any]] = {}
        self._used: dict[str, list[Any]] = {}  # what this run looked up: all that is written back
        self._dirty = False
        if os.environ.get("FLOWDEF_NO_CACHE"):
            return
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        # a short name per project (zlib is imported anyway, hashlib is not); the root is stored inside and
        # checked, so two projects whose names collide just take turns
        self._root = str(root)
        digest = f"{crc32(self._root.encode('utf-8', 'surrogatepass')):08x}"
        self._file = os.path.join(base, "flowdef", "literals", f"{digest}.json")
        try:
            with open(self._file, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return
        if (isinstance(data, dict) and data.get("version") == _version() and data.get("root") == self._root
                and isinstance(data.get("files"), dict)):
            self._entries = data["files"]

    def duplicate_keys(self, path: Path) -> list[Diagnostic]:
        """:func:`duplicate_keys` of ``path``, from the cache when the file's content is unchanged."""
        if self._file is None:
            return duplicate_keys(path)
        try:
            data = path.read_bytes()
        except OSError:
            return duplicate_keys(path)
        key = str(path)
        version = [len(data), crc32(data)]
        entry = self._entries.get(key)
        if isinstance(entry, list) and len(entry) == 3 and entry[:2] == version:
            try:
                cached = [diag("FD605", msg, Location(key, line, col)) for line, col, msg in entry[2]]
            except (TypeError, ValueError):  # a damaged entry: compute it again
                pass
            else:
                self._used[key] = entry
                return cached
        found = duplicate_keys(path, data.decode("utf-8", errors="replace"))
        self._used[key] = [*version, [
            [d.location.line, d.location.column, d.message] for d in found if d.location is not None]]
        self._dirty = True
        return found

    @property
    def used(self) -> dict[str, list[Any]]:
        """The entries this run looked up or computed (what :meth:`save` writes): a worker process hands them to
        the process that saves, with :meth:`add`."""
        return dict(self._used)

    def add(self, used: dict[str, list[Any]]) -> None:
        """Take over entries another process (a share of a parallel load) looked up or computed."""
        for key, entry in used.items():
            if self._entries.get(key) != entry:
                self._dirty = True
            self._used[key] = entry

    def save(self) -> None:
        """Write the cache if anything changed (atomically: a concurrent run sees the old or the new file).  Only
        the modules of this run are kept, so deleted or renamed modules do not pile up."""
        if self._file is None or not (self._dirty or self._used.keys() != self._entries.keys()):
            return
        import tempfile

        folder = os.path.dirname(self._file)
        try:
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump({"version": _version(), "root": self._root, "files": self._used}, fh,
                              separators=(",", ":"))
                os.replace(tmp, self._file)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:  # no cache, no harm
            pass
        self._entries, self._dirty = dict(self._used), False
