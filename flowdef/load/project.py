"""Open a project in one call: find the config, pick the target, import the pipelines.

Every entry point (the CLI, the deploy session, tests, the coming local engine) goes through
:func:`open_project`.  It raises instead of printing: :class:`~flowdef.errors.ConfigError` for a config file
that cannot be used (with file and line), :class:`UnknownTargetError` for a target name the config does not
define (a usage error).  Problems inside the pipelines are never raised: they are the loaded project's
diagnostics.
"""

from __future__ import annotations

from pathlib import Path

from flowdef._frozen import frozen
from flowdef.errors import ConfigError
from flowdef.load.config import ProjectConfig, Target, load_config
from flowdef.load.loader import LoadedProject, load


class UnknownTargetError(ConfigError):
    """The target asked for is not in the project config (a usage error, not a broken config)."""


@frozen
class Project:
    """A project ready for the pipeline stages: its config, the chosen target and the loaded jobs."""

    config: ProjectConfig
    target: Target
    loaded: LoadedProject


def open_project(
    start: Path | str | None = None,
    *,
    config_path: Path | str | None = None,
    target: str | None = None,
    paths: list[str] | None = None,
) -> Project:
    """Load config (found from ``start``, default the current folder), target and pipelines.

    ``paths`` narrows loading to some pipeline modules or folders (default: the config's ``pipelines``).
    """
    config, chosen = open_config(start, config_path=config_path, target=target)
    return Project(config=config, target=chosen, loaded=load(config, list(paths) if paths else None))


def open_config(start: Path | str | None = None, *, config_path: Path | str | None = None,
                target: str | None = None) -> tuple[ProjectConfig, Target]:
    """The project config and the chosen target, the pipelines not loaded yet."""
    config = load_config(Path(start) if start is not None else Path.cwd(),
                         Path(config_path) if config_path is not None else None)
    try:
        chosen = config.target(target)
    except ConfigError as exc:
        raise UnknownTargetError(str(exc), file=exc.file, line=exc.line) from None
    return config, chosen
