"""The exception hierarchy: one base class, a few specific subclasses with structured attributes.

Exceptions are for misuse at call time (a wrong argument type in the DSL) and for deploy/runtime failures.
Problems in a job definition are *diagnostics* (see :mod:`flowdef.diagnostics`), collected, never raised.
"""

from __future__ import annotations


class FlowdefError(Exception):
    """Base class of every error flowdef raises on purpose."""


class DefinitionError(FlowdefError, TypeError):
    """The DSL was called in a way that cannot be recorded (e.g. ``depends_on=42``).

    ``location`` is the user's line and ``code`` the diagnostic code the loader reports it with (FD602 by default:
    misuse that stops the module; FD601 for a wrong argument type raised outside a loader)."""

    def __init__(self, message: str, *, location: object = None, code: str = "FD602") -> None:
        super().__init__(message)
        if location is None:  # raised inside the DSL: the user's line is the first frame outside flowdef
            from flowdef._location import caller_location

            location = caller_location()
        self.location = location
        self.code = code


class ConfigError(FlowdefError):
    """The project configuration (``[tool.flowdef]`` / ``flowdef.toml``) is unusable."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 problems: tuple["ConfigError", ...] = ()) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.problems = problems or (self,)  # every problem found in the file, this one first


class UserCodeError(FlowdefError):
    """User code raised while flowdef ran it; the original exception is kept as ``__cause__``."""

    def __init__(self, message: str, *, module: str | None = None) -> None:
        super().__init__(message)
        self.module = module


class Reported(FlowdefError):
    """A failure already explained to the user (diagnostics printed): ``cli.main`` exits with ``code`` and prints
    nothing more."""

    def __init__(self, code: int = 1) -> None:
        super().__init__(f"exit {code}")
        self.code = code


class WorkspaceError(FlowdefError):
    """A call to a Databricks workspace failed (auth, network, API error)."""
