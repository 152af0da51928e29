"""Source locations: where in the user's code a job, task or reference was declared.

Decorators and DSL calls capture the first stack frame outside the flowdef package, so every diagnostic
can point at the user's own line instead of at flowdef internals or at generated files.
"""

from __future__ import annotations

import os
import sys
from types import FrameType

from flowdef._frozen import frozen

_PKG_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_OWN_CODE = (_PKG_DIR, "<attrs generated")  # frames of flowdef's own code (and of the methods attrs generates)


@frozen
class Location:
    """A place in a source file (1-based line and column)."""

    file: str
    line: int
    column: int = 1

    def display(self, cwd: str | None = None) -> str:
        return f"{display_path(self.file, cwd)}:{self.line}:{self.column}"

    def __str__(self) -> str:
        return self.display()


def display_path(path: str, cwd: str | None = None) -> str:
    """The path relative to the working directory when it lies below it, else as given."""
    cwd = cwd or os.getcwd()
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:  # different drive on Windows
        return path
    return path if rel.startswith("..") else rel


# Locations are immutable values: one instance per (file, line) is shared by every declaration made there (a
# loop declaring a thousand tasks makes one).  Bounded, in case code is generated with ever new file names.
_LOCATIONS: dict[str, dict[int, Location]] = {}
_LOCATIONS_MAX = 4096
_located = 0


def caller_location() -> Location | None:
    """The first frame on the stack that is not flowdef's own code (the user's line)."""
    global _located
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_OWN_CODE):
            line = frame.f_lineno
            lines = _LOCATIONS.get(filename)
            location = lines.get(line) if lines is not None else None
            if location is None:
                if _located >= _LOCATIONS_MAX:
                    _LOCATIONS.clear()
                    _located = 0
                    lines = None
                if lines is None:
                    lines = _LOCATIONS[filename] = {}
                location = lines[line] = Location(filename, line)
                _located += 1
            return location
        frame = frame.f_back
    return None
