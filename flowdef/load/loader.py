"""Explicit discovery: import the modules the user names (default ``pipelines/``) and collect their jobs.

Modules are imported in sorted order, each inside an error boundary: a module that fails to import becomes one
FD001 diagnostic at the failing line, and the others still load.  Under a directory, only ``.py`` files that
import ``flowdef`` are imported, so PySpark scripts and notebooks kept beside the job definitions (and run by
Databricks, not by flowdef) are never executed at load time.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from flowdef._frozen import frozen
from flowdef._location import Location
from flowdef.load.config import ProjectConfig
from flowdef.diagnostics import Diagnostic, diag
from flowdef._check import collecting
from flowdef.load.literals import DuplicateKeyCache
from flowdef.errors import DefinitionError
from flowdef.model.spec import JobSpec

_FLOWDEF_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_IMPORTS_FLOWDEF = re.compile(r"^\s*(from|import)\s+flowdef\b", re.M)


@frozen
class LoadedProject:
    config: ProjectConfig
    jobs: tuple[JobSpec, ...]
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[Path, ...] = ()

    def job(self, key_or_name: str) -> JobSpec | None:
        for j in self.jobs:
            if j.key == key_or_name:
                return j
        for j in self.jobs:
            if j.name == key_or_name:
                return j
        return None


def discover(config: ProjectConfig, paths: list[str] | None = None) -> tuple[list[Path], list[Diagnostic]]:
    """The python files to import, sorted, and diagnostics for paths that do not exist."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    for raw in paths or list(config.pipelines):
        p = Path(raw)
        if not p.is_absolute():  # the config's folders are relative to the project root, paths given to the
            # command relative to the current folder (or else the root)
            p = (Path.cwd() / p) if paths and (Path.cwd() / p).exists() else (config.root / p)
        if p.is_dir():
            for f in sorted(p.rglob("*.py")):
                if "__pycache__" in f.parts or any(part.startswith(".") for part in f.relative_to(p).parts):
                    continue
                try:
                    text = f.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                if _IMPORTS_FLOWDEF.search(text):
                    files.append(f.resolve())
        elif p.is_file() and p.suffix == ".py":
            files.append(p.resolve())
        elif paths:
            problems.append(diag("FD004", f"no such pipeline file or directory: {raw}"))
        else:  # a folder the config names: say where
            index = list(config.pipelines).index(raw)
            problems.append(diag(
                "FD004", f"no such pipeline folder or file: {raw!r} (relative to the project root {config.root}); "
                "fix 'pipelines' in the project config or create the folder",
                config.location("pipelines", str(index), value=True) or config.location("pipelines", value=True)))
    return sorted(dict.fromkeys(files)), problems


def _module_name(path: Path, root: Path) -> tuple[str, str]:
    """(module name, sys.path entry) for a file: dotted path from the project root when inside it."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return path.stem, str(path.parent)
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts), str(root)


_LIBRARY_DIRS = tuple(
    {os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
)


def _is_user_file(filename: str, folders: tuple[str, ...]) -> bool:
    """Project code, not flowdef, the standard library or an installed package."""
    real = os.path.realpath(filename)
    if real.startswith(_FLOWDEF_DIR) or "site-packages" in real or "dist-packages" in real:
        return False
    return real.startswith(folders) or not real.startswith(_LIBRARY_DIRS)


def _error_location(exc: BaseException, path: Path, root: Path) -> Location:
    """The user's line that failed: the deepest frame in project code (a KeyError raised inside ``os.environ``
    is reported where the user's code read the variable), else the module's own last line on the stack."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return Location(exc.filename, exc.lineno or 1, exc.offset or 1)
    folders = (os.path.realpath(root) + os.sep, os.path.realpath(path.parent) + os.sep)
    user = in_module = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.startswith("<"):
            continue
        if os.path.realpath(filename) == os.path.realpath(path):
            in_module = Location(filename, lineno)
        if _is_user_file(filename, folders):
            user = Location(filename, lineno)
    return user or in_module or Location(str(path), 1)


def _forget(name: str, entry: str) -> None:
    """Re-import fresh: a long-lived process (tests, watch mode, several projects) must see the files as they
    are now, and a package of the same name from another folder must not shadow this project's."""
    sys.modules.pop(name, None)
    parts = name.split(".")
    for i in range(1, len(parts)):
        prefix = ".".join(parts[:i])
        module = sys.modules.get(prefix)
        if module is None:
            continue
        locations = list(getattr(module, "__path__", []) or [])
        if not any(str(loc).startswith(entry + os.sep) or str(loc) == entry for loc in locations):
            for key in [k for k in sys.modules if k == prefix or k.startswith(prefix + ".")]:
                del sys.modules[key]


def _namespace_parents(name: str, entry: str) -> None:
    """Folders without ``__init__.py`` are namespace packages, and Python prefers a *regular* package of the same
    name anywhere on ``sys.path`` over them.  Bind each such parent to this project's folder explicitly, so
    ``pipelines/`` of this project is never shadowed by another ``pipelines`` package."""
    import importlib.machinery
    import types

    parts = name.split(".")
    for i in range(1, len(parts)):
        prefix = ".".join(parts[:i])
        folder = os.path.join(entry, *parts[:i])
        if prefix in sys.modules or os.path.exists(os.path.join(folder, "__init__.py")):
            continue
        spec = importlib.machinery.ModuleSpec(prefix, None, is_package=True)
        spec.submodule_search_locations = [folder]
        module = types.ModuleType(prefix)
        module.__spec__ = spec
        module.__path__ = [folder]
        sys.modules[prefix] = module


@functools.lru_cache(maxsize=4096)
def _real(filename: str) -> Path:
    """A file's resolved path; the module's file and its jobs' file are the same string, resolved once."""
    return Path(filename).resolve()


def load(config: ProjectConfig, paths: list[str] | None = None) -> LoadedProject:
    files, problems = discover(config, paths)
    literal_keys = DuplicateKeyCache(config.root)
    loaded = load_files(config, files, literal_keys, problems=problems)
    literal_keys.save()
    return loaded


def load_files(config: ProjectConfig, files: list[Path], literal_keys: DuplicateKeyCache, *,
               pipeline_files: frozenset[str] | None = None, problems: Sequence[Diagnostic] = ()) -> LoadedProject:
    """Import ``files`` (as :func:`discover` found them) in order and collect their jobs.  ``pipeline_files`` are
    all the project's pipeline modules when ``files`` are only some of them (a share of a parallel load)."""
    jobs: list[JobSpec] = []
    diags = list(problems)
    if pipeline_files is None:
        pipeline_files = frozenset(str(f) for f in files)
    for path in files:
        name, entry = _module_name(path, config.root)
        if not sys.path or sys.path[0] != entry:
            if entry in sys.path:
                sys.path.remove(entry)
            sys.path.insert(0, entry)
        _forget(name, entry)
        _namespace_parents(name, entry)
        # every Job created while the module runs registers here (loops, functions, reused variable names),
        # and so does every problem the DSL's boundary checks find
        with collecting(pipeline_files) as collected:
            try:
                module = importlib.import_module(name)
            except (Exception, SystemExit) as exc:  # the error boundary: one diagnostic, the rest still load
                sys.modules.pop(name, None)
                diags += collected.diagnostics
                diags.append(_import_failure(exc, name, path, config.root))
                continue
        diags += collected.diagnostics
        diags += literal_keys.duplicate_keys(path)
        module_file = getattr(module, "__file__", None)
        if module_file and _real(module_file) != path:
            diags.append(diag(
                "FD001",
                f"module name '{name}' resolves to {module_file}, not to this file; rename one of them",
                Location(str(path), 1),
            ))
            continue
        for job, owner in collected.jobs:
            # a job made while another pipeline module ran (one this module imports) is that module's; it is
            # collected when the loader imports that module
            mine = owner == str(path) if owner is not None else (
                job.location is None or _real(job.location.file) == path)
            if mine:  # each Job registers once, when it is created: no job is seen twice
                jobs.append(job.to_model(module=name))
    return LoadedProject(config=config, jobs=tuple(jobs), diagnostics=tuple(diags), files=tuple(files))


def _import_failure(exc: BaseException, name: str, path: Path, root: Path) -> Diagnostic:
    """The diagnostic of a module that raised while imported: DSL misuse (a :class:`DefinitionError`) in the DSL's
    own words at the user's line, anything else as an FD001 naming the exception."""
    where = _error_location(exc, path, root)
    if isinstance(exc, DefinitionError):
        location = exc.location if isinstance(exc.location, Location) else where
        return diag(exc.code, f"{exc} (the rest of module '{name}' was not loaded)", location)
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, SyntaxError):
        detail = f"SyntaxError: {exc.msg}"
    return diag("FD001", f"importing module '{name}' failed: {detail}; fix it (the other modules were still loaded)",
                where)
