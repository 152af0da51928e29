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


def _line_of(text: str, needle: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    return None


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
    """Read the project config; raise :class:`ConfigError` with file and line on a bad one."""
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
    table = data if path.name == "flowdef.toml" else data.get("tool", {}).get("flowdef", {})

    def fail(message: str, needle: str) -> ConfigError:
        return ConfigError(message, file=str(path), line=_line_of(text, needle))

    unknown = sorted(set(table) - _TOP_KEYS)
    if unknown:
        raise fail(f"unknown setting {unknown[0]!r}; known: {', '.join(sorted(_TOP_KEYS))}", unknown[0])
    root = path.parent.resolve()
    project = str(table.get("project") or root.name)
    pipelines = table.get("pipelines", ["pipelines"])
    if isinstance(pipelines, str):
        pipelines = [pipelines]
    if not isinstance(pipelines, list) or not all(isinstance(p, str) for p in pipelines):
        raise fail("'pipelines' must be a list of paths", "pipelines")
    targets = []
    raw_targets = table.get("targets") or {}
    if not isinstance(raw_targets, dict):
        raise fail("'targets' must be a table of target tables", "targets")
    for name, raw in raw_targets.items():
        if not isinstance(raw, dict):
            raise fail(f"target {name!r} must be a table", f"targets.{name}")
        bad = sorted(set(raw) - _TARGET_KEYS)
        if bad:
            raise fail(
                f"unknown setting {bad[0]!r} in target {name!r}; known: {', '.join(sorted(_TARGET_KEYS))}", bad[0]
            )
        mode = raw.get("mode", "development")
        if mode not in MODES:
            raise fail(f"target {name!r}: mode must be 'development' or 'production', got {mode!r}", "mode")
        params = raw.get("params", {})
        if not isinstance(params, dict):
            raise fail(f"target {name!r}: 'params' must be a table of name = value", "params")
        engine = raw.get("engine", "databricks")
        if engine not in ENGINES:
            raise fail(f"target {name!r}: engine must be one of {', '.join(ENGINES)}, got {engine!r}", "engine")
        dev = mode == "development"
        targets.append(
            Target(
                name=name,
                mode=mode,
                name_prefix=str(raw.get("name_prefix", f"[{name}] " if dev else "")),
                root_path=str(raw.get("root_path", f"/Workspace/Shared/.flowdef/{project}/{name}")).rstrip("/"),
                warehouse_id=raw.get("warehouse_id"),
                params=tuple((str(k), str(v)) for k, v in params.items()),
                vars=tuple(dict(raw.get("vars", {})).items()),
                host=raw.get("host"),
                profile=raw.get("profile"),
                tags=tuple((str(k), str(v)) for k, v in dict(raw.get("tags", {})).items()),
                pause_triggers=bool(raw.get("pause_triggers", dev)),
                engine=str(engine),
                data_dir=str(raw["data_dir"]) if raw.get("data_dir") is not None else None,
            )
        )
    if not targets:
        targets = list(_default_targets(project))
    default = str(table.get("default_target", targets[0].name))
    if default not in {t.name for t in targets}:
        raise fail(f"default_target {default!r} is not a defined target", "default_target")
    return ProjectConfig(
        root=root,
        project=project,
        pipelines=tuple(pipelines),
        templates=str(table.get("templates", "sql_templates")),
        default_target=default,
        targets=tuple(targets),
        source=path,
    )


def relative_to_root(config: ProjectConfig, path: str) -> str:
    return os.path.relpath(path, config.root)
