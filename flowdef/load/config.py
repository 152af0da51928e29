"""Project configuration: ``[tool.flowdef]`` in ``pyproject.toml`` or a ``flowdef.toml`` (top-level keys).

Example::

    [tool.flowdef]
    project = "smart_claims"
    pipelines = ["pipelines"]
    templates = "sql_templates"
    default_target = "dev"

    [tool.flowdef.targets.dev]
    mode = "development"        # name prefix "[dev] " and every trigger paused
    root_path = "/Workspace/Shared/.flowdef/smart_claims/dev"
    warehouse_id = "abc123"
    params = { catalog = "smart_claims_dev" }

Without a config file the project root is the working directory, with one target ``dev``.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from flowdef._frozen import frozen
from flowdef._location import Location
from flowdef.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

MODES = ("development", "production")
_TARGET_KEYS = {
    "mode", "name_prefix", "root_path", "warehouse_id", "params", "vars", "host", "profile", "tags",
    "pause_triggers", "concurrency", "engine", "data_dir",
}
ENGINES = ("databricks", "local")
_TOP_KEYS = {"project", "pipelines", "templates", "default_target", "targets"}


@frozen
class Target:
    name: str
    mode: str = "development"
    name_prefix: str = ""
    root_path: str = ""
    warehouse_id: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    vars: tuple[tuple[str, Any], ...] = ()
    host: str | None = None
    profile: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    pause_triggers: bool = False
    engine: str = "databricks"  # "local": runs on this machine (flowdef.local), data under data_dir
    data_dir: str | None = None

    @property
    def params_dict(self) -> dict[str, str]:
        return dict(self.params)


@frozen
class ProjectConfig:
    root: Path
    project: str
    pipelines: tuple[str, ...] = ("pipelines",)
    templates: str = "sql_templates"
    default_target: str = "dev"
    targets: tuple[Target, ...] = ()
    source: Path | None = None

    def target(self, name: str | None) -> Target:
        wanted = name or self.default_target
        for t in self.targets:
            if t.name == wanted:
                return t
        known = ", ".join(t.name for t in self.targets) or "(none)"
        where = f" in {self.source}" if self.source else ""
        raise ConfigError(f"unknown target {wanted!r}{where}; known targets: {known}")

    @property
    def templates_dir(self) -> Path:
        return self.root / self.templates

    def location(self, *key: str, value: bool = False) -> Location | None:
        """Where a setting is written in the config file (``config.location("targets", "prod", "params", "x")``):
        the line of that key (or of its value), found by a TOML scanner, not by searching for the name."""
        if self.source is None:
            return None
        try:
            text = self.source.read_text(encoding="utf-8")
        except OSError:
            return None
        prefix = ("tool", "flowdef") if self.source.name == "pyproject.toml" else ()
        return Location(str(self.source), config_line(text, (*prefix, *key), value=value) or 1)


def find_config(start: Path) -> Path | None:
    """The nearest ``flowdef.toml`` or ``pyproject.toml`` with a ``[tool.flowdef]`` table, walking up."""
    here = start.resolve()
    for folder in (here, *here.parents):
        candidate = folder / "flowdef.toml"
        if candidate.is_file():
            return candidate
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
            except OSError:
                continue
            if "[tool.flowdef" in text:
                return candidate
    return None


def _default_targets(project: str) -> tuple[Target, ...]:
    return (
        Target("dev", mode="development", name_prefix="[dev] ", pause_triggers=True,
               root_path=f"/Workspace/Shared/.flowdef/{project}/dev"),
        Target("prod", mode="production", root_path=f"/Workspace/Shared/.flowdef/{project}/prod"),
    )


def load_config(start: Path | None = None, path: Path | None = None) -> ProjectConfig:
    """Read the project config; raise :class:`ConfigError` with every problem found, each at its file and line."""
    start = start or Path.cwd()
    path = path or find_config(start)
    if path is None:
        root = start.resolve()
        return ProjectConfig(root=root, project=root.name, targets=_default_targets(root.name))
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"at line (\d+)", str(exc))
        raise ConfigError(f"invalid TOML: {exc}", file=str(path), line=int(where.group(1)) if where else None) from exc
    # a pyproject.toml holds the settings under [tool.flowdef]; any other file (flowdef.toml) at the top level
    prefix: tuple[str, ...] = ("tool", "flowdef") if path.name == "pyproject.toml" else ()
    reader = _Reader(path, text, prefix)
    table = data
    for part in prefix:
        table = table.get(part, {}) if isinstance(table, dict) else {}
    config = reader.project(table, path)
    if reader.problems:
        reader.problems.sort(key=lambda p: p.line or 0)
        first = reader.problems[0]
        raise ConfigError(str(first), file=first.file, line=first.line, problems=tuple(reader.problems))
    assert config is not None
    return config


class _Reader:
    """Reads the config table, collecting every problem at the line of the offending key or value (all targets,
    whichever is chosen)."""

    def __init__(self, path: Path, text: str, prefix: tuple[str, ...]) -> None:
        self.path = path
        self.text = text
        self.prefix = prefix
        self.problems: list[ConfigError] = []

    def fail(self, message: str, *key: str, value: bool = False) -> None:
        self.problems.append(ConfigError(message, file=str(self.path), line=self.line(key, value=value)))

    def line(self, key: tuple[str, ...], value: bool = False) -> int | None:
        return config_line(self.text, (*self.prefix, *key), value=value)

    def typed(self, raw: dict, key: str, expect: type | tuple[type, ...], what: str, default: Any, *where: str) -> Any:
        """``raw[key]`` when it has the TOML type ``expect`` (booleans are not numbers), else a problem at the value
        and ``default``."""
        if key not in raw:
            return default
        value = raw[key]
        if isinstance(value, expect) and not (isinstance(value, bool) and bool not in _as_tuple(expect)):
            return value
        owner = f"target {where[1]!r}: " if len(where) >= 2 and where[0] == "targets" else ""
        self.fail(f"{owner}{key!r} must be {what}, got {_toml_type(value)} {value!r}", *where, key, value=True)
        return default

    def project(self, table: dict, path: Path) -> ProjectConfig | None:
        unknown = sorted(set(table) - _TOP_KEYS)
        for key in unknown:
            self.fail(f"unknown setting {key!r}{_suggest(key, _TOP_KEYS)}; known: {', '.join(sorted(_TOP_KEYS))}",
                      key)
        root = path.parent.resolve()
        project = self.typed(table, "project", str, "a string", "", ) or root.name
        pipelines = table.get("pipelines", ["pipelines"])
        if isinstance(pipelines, str):
            pipelines = [pipelines]
        if not isinstance(pipelines, list) or not all(isinstance(p, str) for p in pipelines):
            self.fail(f"'pipelines' must be a list of paths (strings), got {_toml_type(pipelines)} {pipelines!r}",
                      "pipelines", value=True)
            pipelines = ["pipelines"]
        templates = self.typed(table, "templates", str, "a path (a string)", "sql_templates")
        targets = []
        raw_targets = self.typed(table, "targets", dict, "a table of target tables ([targets.NAME])", {})
        for name, raw in raw_targets.items():
            if not isinstance(raw, dict):
                self.fail(f"target {name!r} must be a table ([targets.{name}]), got {_toml_type(raw)} {raw!r}",
                          "targets", name, value=True)
                continue
            targets.append(self.target(name, raw, project))
        if not targets and not raw_targets:
            targets = list(_default_targets(project))
        default = self.typed(table, "default_target", str, "a target name (a string)", None)
        if default is None:
            default = targets[0].name if targets else "dev"
        elif targets and default not in {t.name for t in targets}:
            known = ", ".join(t.name for t in targets)
            self.fail(f"default_target {default!r} is not a defined target (targets: {known})", "default_target",
                      value=True)
        if self.problems:
            return None
        return ProjectConfig(root=root, project=project, pipelines=tuple(pipelines), templates=templates,
                             default_target=default, targets=tuple(targets), source=path)

    def target(self, name: str, raw: dict, project: str) -> Target:
        where = ("targets", name)
        for key in sorted(set(raw) - _TARGET_KEYS):
            self.fail(f"unknown setting {key!r} in target {name!r}{_suggest(key, _TARGET_KEYS)}; known: "
                      f"{', '.join(sorted(_TARGET_KEYS))}", *where, key)
        mode = self.typed(raw, "mode", str, "'development' or 'production'", "development", *where)
        if mode not in MODES:
            self.fail(f"target {name!r}: mode must be 'development' or 'production', got {mode!r}", *where, "mode",
                      value=True)
            mode = "development"
        dev = mode == "development"
        params = self.typed(raw, "params", dict, "a table of name = value", {}, *where)
        pairs = []
        for key, value in params.items():
            if isinstance(value, (dict, list)) or not isinstance(value, (str, int, float, bool)):
                self.fail(f"target {name!r}: parameter {key!r} must be a string, number or boolean, got "
                          f"{_toml_type(value)} {value!r}", *where, "params", key, value=True)
                continue
            pairs.append((key, _param_text(value)))
        tags = self.typed(raw, "tags", dict, "a table of name = \"value\"", {}, *where)
        for key, value in list(tags.items()):
            if not isinstance(value, str):
                self.fail(f"target {name!r}: tag {key!r} must be a string, got {_toml_type(value)} {value!r}",
                          *where, "tags", key, value=True)
                del tags[key]
        prefix = self.typed(raw, "name_prefix", str, "a string", f"[{name}] " if dev else "", *where)
        root_path = self.typed(raw, "root_path", str, "a workspace path (a string)",
                               f"/Workspace/Shared/.flowdef/{project}/{name}", *where)
        self.typed(raw, "concurrency", int, "an integer", None, *where)
        engine = self.typed(raw, "engine", str, f"one of {', '.join(ENGINES)}", "databricks", *where)
        if engine not in ENGINES:
            self.fail(f"target {name!r}: engine must be one of {', '.join(ENGINES)}, got {engine!r}", *where,
                      "engine", value=True)
            engine = "databricks"
        data_dir = self.typed(raw, "data_dir", str, "a folder (a string)", None, *where)
        return Target(
            name=name,
            mode=mode,
            name_prefix=prefix,
            root_path=root_path.rstrip("/"),
            warehouse_id=self.typed(raw, "warehouse_id", str, "a SQL warehouse id (a string)", None, *where),
            params=tuple(pairs),
            vars=tuple(self.typed(raw, "vars", dict, "a table of name = value", {}, *where).items()),
            host=self.typed(raw, "host", str, "a workspace URL (a string)", None, *where),
            profile=self.typed(raw, "profile", str, "a profile name (a string)", None, *where),
            tags=tuple(tags.items()),
            pause_triggers=self.typed(raw, "pause_triggers", bool, "true or false", dev, *where),
            engine=engine,
            data_dir=data_dir,
        )


def config_line(text: str, key: tuple[str, ...], *, value: bool = False) -> int | None:
    """The line of ``key`` (a full key path) in a TOML document, or of its value; a table defined only through
    its sub-tables is at its first one."""
    from flowdef.load.tomlpos import positions

    keys, values = _POSITIONS.get(text) or _POSITIONS.setdefault(text, positions(text))
    if value and key in values:
        return values[key]
    if key in keys:
        return keys[key]
    below = [line for path, line in keys.items() if path[:len(key)] == key]
    if below:
        return min(below)
    return config_line(text, key[:-1]) if key else None


_POSITIONS: dict[str, tuple[dict, dict]] = {}


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _toml_type(value: Any) -> str:
    """TOML's name of a value's type, as the user wrote it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "array"
    return "date/time"


def _param_text(value: str | int | float | bool) -> str:
    """Parameter defaults are strings on the wire; TOML numbers and booleans are spelled as in the DSL."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


def _suggest(word: str, known: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def relative_to_root(config: ProjectConfig, path: str) -> str:
    return os.path.relpath(path, config.root)
