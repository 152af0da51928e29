"""A local workspace: the folder a ``engine = "local"`` target keeps its data, runs and logs in.

Layout under ``data_dir``::

    catalogs/<catalog>.duckdb            one DuckDB database per Unity Catalog catalog (ATTACHed under its name)
    volumes/<catalog>/<schema>/<volume>/ what ``/Volumes/<catalog>/<schema>/<volume>/...`` means here
    runs.sqlite                          the run records (flowdef.local.records)
    logs/<run>/<task>/<attempt>.out|err  captured stdout / stderr of each attempt

A catalog exists when its database file exists, or when its volume folder does (data dropped into a landing
volume belongs to a catalog); ``CREATE CATALOG`` makes one.  Schemas are created on demand.  This module is
standard library only: duckdb is imported by :meth:`LocalWorkspace.connect`.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

VOLUME_PREFIXES = ("/Volumes/", "dbfs:/Volumes/")
_LOCK_WAIT_STEP = 0.01


class WorkspaceError(Exception):
    """A path or name the local workspace cannot map (reported as the task's error)."""


class LocalWorkspace:
    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.root = Path(data_dir).resolve()

    # -- folders ---------------------------------------------------------------------------------------------
    @property
    def catalogs_dir(self) -> Path:
        return self.root / "catalogs"

    @property
    def volumes_dir(self) -> Path:
        return self.root / "volumes"

    @property
    def runs_db(self) -> Path:
        return self.root / "runs.sqlite"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    def catalog_file(self, catalog: str) -> Path:
        _check_name(catalog, "catalog")
        return self.catalogs_dir / f"{catalog}.duckdb"

    def catalogs(self) -> list[str]:
        """Every catalog of this workspace, sorted."""
        names = set()
        if self.catalogs_dir.is_dir():
            names |= {p.stem for p in self.catalogs_dir.glob("*.duckdb")}
        if self.volumes_dir.is_dir():
            names |= {p.name for p in self.volumes_dir.iterdir() if p.is_dir()}
        return sorted(names)

    def volume(self, catalog: str, schema: str, volume: str) -> Path:
        """The local folder of a volume (created)."""
        for name, what in ((catalog, "catalog"), (schema, "schema"), (volume, "volume")):
            _check_name(name, what)
        path = self.volumes_dir / catalog / schema / volume
        path.mkdir(parents=True, exist_ok=True)
        return path

    def local_path(self, path: str) -> str:
        """``/Volumes/c/s/v/x.csv`` (or ``dbfs:/Volumes/...``) -> the local file; other paths are refused.

        Globs are kept as they are.  Relative or host paths are refused: on Databricks they would name
        something else, so running them here would silently give a different answer.
        """
        for prefix in VOLUME_PREFIXES:
            if path.startswith(prefix):
                rest = path[len(prefix):]
                parts = rest.split("/")
                if len(parts) < 3 or not all(parts[:3]):
                    raise WorkspaceError(f"{path!r} is not a volume path: expected /Volumes/<catalog>/<schema>/<volume>/...")
                for name, what in zip(parts[:3], ("catalog", "schema", "volume")):
                    _check_name(name, what)
                return str(self.volumes_dir.joinpath(*parts))
        if path.startswith(str(self.volumes_dir)):
            return path
        raise WorkspaceError(
            f"path {path!r} is outside Unity Catalog volumes; the local engine maps only /Volumes/<catalog>/<schema>/"
            "<volume>/... (to <data_dir>/volumes/...)"
        )

    # -- DuckDB ----------------------------------------------------------------------------------------------
    def connect(self, *, wait: float = 60.0) -> Any:
        """A DuckDB connection with every catalog ATTACHed under its own name.

        A database file admits one writer *process*; when another attempt holds it, wait for it (up to
        ``wait`` seconds) rather than fail — attempts on the same catalog run one after another.
        """
        import duckdb

        self.catalogs_dir.mkdir(parents=True, exist_ok=True)
        conn = duckdb.connect(":memory:")
        conn.execute("SET enable_progress_bar = false")  # it would land in the task's captured stderr
        for catalog in self.catalogs():
            self.attach(conn, catalog, wait=wait)
        return conn

    def attach(self, conn: Any, catalog: str, *, wait: float = 60.0) -> None:
        import duckdb

        path = self.catalog_file(catalog)
        deadline = time.monotonic() + wait
        while True:
            try:
                conn.execute(f"ATTACH IF NOT EXISTS '{_sql_text(str(path))}' AS {quote_duckdb(catalog)}")
                return
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                # a fixed short step, not a growing one: attempts of one job hold a catalog for ~0.1 s each, and
                # backing off to 0.25 s left the file idle most of the time (a failed ATTACH costs well under 1 ms)
                time.sleep(_LOCK_WAIT_STEP)

    def create_catalog(self, catalog: str) -> None:
        """Make a catalog exist (its database file), as ``CREATE CATALOG`` does."""
        import duckdb

        path = self.catalog_file(catalog)
        if not path.exists():
            self.catalogs_dir.mkdir(parents=True, exist_ok=True)
            duckdb.connect(str(path)).close()


_NAME = re.compile(r"[^/\\\x00]+\Z")


def _check_name(name: str, what: str) -> None:
    if not name or not _NAME.match(name) or name in (".", ".."):
        raise WorkspaceError(f"invalid {what} name {name!r}")


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def quote_duckdb(name: str) -> str:
    """A DuckDB identifier, always quoted (``01_bronze`` needs it; quoting the others is harmless)."""
    return '"' + name.replace('"', '""') + '"'
