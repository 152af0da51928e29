"""YAML in and out for bundles: pyyaml, imported here only (``import flowdef`` and ``validate`` never load it).

Written YAML looks like the bundle templates Databricks ships: block style, sequences indented under their key,
keys in the order given (callers order them for reading), one line per value (no folding, so a diff shows the
changed value).  Reading uses the safe loader and keeps each mapping's line, for diagnostics.
"""

from __future__ import annotations

from typing import Any


def _yaml():
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - pyyaml is a dependency of the convert extra
        from flowdef.errors import FlowdefError

        raise FlowdefError("bundle YAML needs pyyaml: pip install 'flowdef[convert]'") from exc
    return yaml


def dump(data: Any, header: str = "") -> str:
    yaml = _yaml()

    class _Dumper(yaml.SafeDumper):  # type: ignore[name-defined]  # yaml is a module object here
        def increase_indent(self, flow: bool = False, indentless: bool = False):  # noqa: ARG002
            return super().increase_indent(flow, False)  # "key:\n  - item", as bundle templates write it

    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=1 << 30)
    return header + text


def load(text: str, source: str = "<yaml>") -> Any:
    """Parse YAML; a syntax error becomes a :class:`~flowdef.errors.FlowdefError` naming file and line."""
    yaml = _yaml()
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        from flowdef.errors import FlowdefError

        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise FlowdefError(f"{where}: invalid YAML: {problem}") from exc
