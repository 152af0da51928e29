"""Diagnostics: every problem found in a project, with a stable code, the user's line and a fix-it message.

Validation never stops at the first problem: rules append :class:`Diagnostic` values to a list and the CLI
prints all of them, like a compiler.  Codes are stable (documented in ``docs/diagnostics.md``); tests assert them.
"""

from __future__ import annotations

import json
from typing import Iterable

from flowdef._frozen import frozen
from flowdef._location import Location, display_path

ERROR = "error"
WARNING = "warning"

# code -> (short name, default severity).  Append only: codes are a public contract.
CODES: dict[str, tuple[str, str]] = {
    # loading and project
    "FD001": ("import-failed", ERROR),
    "FD002": ("no-jobs", WARNING),
    "FD003": ("duplicate-job-name", ERROR),
    "FD004": ("config", ERROR),
    "FD005": ("duplicate-job-key", ERROR),
    "FD006": ("job-name", ERROR),
    # graph
    "FD101": ("cycle", ERROR),
    "FD102": ("self-dependency", ERROR),
    "FD103": ("unknown-dependency", ERROR),
    "FD104": ("duplicate-task-key", ERROR),
    "FD105": ("task-key-format", ERROR),
    "FD106": ("too-many-tasks", ERROR),
    "FD107": ("run-if", ERROR),
    "FD108": ("duplicate-dependency", WARNING),
    "FD109": ("no-tasks", ERROR),
    # references and parameters
    "FD201": ("task-value-not-ancestor", ERROR),
    "FD202": ("undeclared-job-parameter", ERROR),
    "FD203": ("unknown-task-value", ERROR),
    "FD204": ("malformed-reference", ERROR),
    "FD205": ("unknown-reference", ERROR),
    "FD206": ("parameter-name", ERROR),
    "FD207": ("duplicate-parameter", ERROR),
    "FD208": ("unknown-target-parameter", ERROR),
    "FD209": ("input-outside-for-each", ERROR),
    "FD210": ("literal-secret", ERROR),
    # triggers
    "FD301": ("multiple-triggers", ERROR),
    "FD302": ("quartz", ERROR),
    "FD303": ("timezone", ERROR),
    "FD304": ("trigger-setting", ERROR),
    # templates / SQL
    "FD401": ("missing-template", ERROR),
    "FD402": ("undeclared-template-variable", ERROR),
    "FD403": ("template-syntax", ERROR),
    "FD404": ("undeclared-sql-parameter", ERROR),
    "FD405": ("missing-warehouse", ERROR),
    "FD406": ("missing-file", ERROR),
    # settings, limits, compute
    "FD501": ("setting", ERROR),
    "FD502": ("limit", ERROR),
    "FD503": ("compute", ERROR),
    "FD504": ("unknown-compute", ERROR),
    "FD505": ("unused-compute", WARNING),
    # control flow, limits and traps (appended: validation of condition / for-each tasks and run_if reachability)
    "FD110": ("outcome", ERROR),
    "FD111": ("nested-for-each", ERROR),
    "FD112": ("condition-task", ERROR),
    "FD113": ("string-comparison", WARNING),
    "FD114": ("run-if-never-met", WARNING),
    "FD115": ("run-if-no-effect", WARNING),
    "FD211": ("for-each-inputs", ERROR),
    "FD506": ("skip-all-runs", WARNING),
    # task kinds, job settings and the raw escape hatch (appended: validation/settings.py, validation/compute.py)
    "FD510": ("task-kind", ERROR),
    "FD511": ("unknown-field", ERROR),
    "FD512": ("field-value", ERROR),
    "FD513": ("enum-value", ERROR),
    "FD514": ("notification", ERROR),
    "FD515": ("permission", ERROR),
    "FD516": ("unknown-job", ERROR),
    "FD517": ("compute-conflict", ERROR),
    # bad input at the DSL boundary (appended: flowdef/_check.py, the loader, config, SQL markers)
    "FD601": ("argument-type", ERROR),
    "FD602": ("dsl-misuse", ERROR),
    "FD603": ("task-function-signature", ERROR),
    "FD604": ("both-branches", ERROR),
    "FD605": ("duplicate-literal-key", ERROR),
}


@frozen
class Diagnostic:
    """One problem.  ``path`` points into the job (``tasks.join.depends_on[0]``)."""

    code: str
    severity: str
    message: str
    location: Location | None = None
    job: str = ""
    path: str = ""

    @property
    def name(self) -> str:
        return CODES.get(self.code, ("", ""))[0]

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.file if loc else "~", loc.line if loc else 0, loc.column if loc else 0, self.code, self.message)

    def as_dict(self, cwd: str | None = None) -> dict:
        loc = self.location
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "file": display_path(loc.file, cwd) if loc else None,
            "line": loc.line if loc else None,
            "column": loc.column if loc else None,
            "job": self.job or None,
            "path": self.path or None,
        }


def diag(
    code: str,
    message: str,
    location: Location | None = None,
    *,
    job: str = "",
    path: str = "",
    severity: str | None = None,
) -> Diagnostic:
    """Build a diagnostic with the code's default severity."""
    return Diagnostic(code, severity or CODES[code][1], message, location, job, path)


def sort_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    unique = dict.fromkeys(diags)  # the same problem found twice is reported once
    return sorted(unique, key=Diagnostic.sort_key)


def without_cascades(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Drop what follows from a wrong argument type: a value of the wrong type is reported (FD601) and left out, so
    a rule may then see the argument as missing (``GitSource(branch=5)`` -> "needs one of branch, tag, commit").
    Such a second diagnostic at the very line of an FD601 says nothing the first does not; fixing the type shows
    any real problem left there."""
    diags = list(diags)
    typed = {(d.location.file, d.location.line) for d in diags if d.code == "FD601" and d.location}
    if not typed:
        return diags
    return [d for d in diags if d.code.startswith("FD6") or not d.location
            or (d.location.file, d.location.line) not in typed]


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diags)


def format_text(diags: Iterable[Diagnostic], cwd: str | None = None) -> str:
    lines = []
    for d in diags:
        where = d.location.display(cwd) + ": " if d.location else ""
        ctx = f" (job {d.job}" + (f", {d.path})" if d.path else ")") if d.job else ""
        lines.append(f"{where}{d.severity}[{d.code}]: {d.message}{ctx}")
    return "\n".join(lines)


def format_json(diags: Iterable[Diagnostic], cwd: str | None = None) -> str:
    return json.dumps([d.as_dict(cwd) for d in diags], indent=2, sort_keys=True)


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(diags: Iterable[Diagnostic], cwd: str | None = None) -> str:
    """GitHub Actions workflow commands: annotations on the PR diff."""
    lines = []
    for d in diags:
        level = "error" if d.is_error else "warning"
        props = []
        if d.location:
            props.append(f"file={_gh_escape(display_path(d.location.file, cwd), True)}")
            props.append(f"line={d.location.line}")
            props.append(f"col={d.location.column}")
        props.append(f"title={_gh_escape(d.code + ' ' + d.name, True)}")
        lines.append(f"::{level} {','.join(props)}::{_gh_escape(d.message)}")
    return "\n".join(lines)


def summary(diags: list[Diagnostic]) -> str:
    errors = sum(1 for d in diags if d.is_error)
    warnings = len(diags) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
