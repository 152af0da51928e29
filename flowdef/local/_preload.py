"""Imported once by the fork server so that each attempt's process starts warm (see isolation.py)."""

import atexit
import logging
import os

import duckdb  # noqa: F401
import sqlframe  # noqa: F401
import sqlframe.duckdb  # noqa: F401
import sqlglot  # noqa: F401
from sqlglot.dialects import Databricks, DuckDB  # noqa: F401

# What a PySpark attempt would otherwise import on first use (measured: ~0.5 s per attempt): numpy (DuckDB's
# results), sqlframe's functions and testing modules.
import fractions  # noqa: F401
import pickle  # noqa: F401
import zoneinfo  # noqa: F401

import numpy  # noqa: F401
import sqlframe.base.util
import sqlframe.duckdb.functions  # noqa: F401
import sqlframe.testing  # noqa: F401
from sqlglot.dialects.dialect import Dialect

# sqlframe names a session's dialect by walking ``Dialect.classes``, which imports every sqlglot dialect (~30
# modules, ~0.35 s of the fork server's start, on the path of the first attempt).  The attempts only use the
# dialects loaded above, so look among the loaded ones first and fall back to the full walk.
_dialect_by_walk = sqlframe.base.util.dialect_to_string


def _dialect_to_string(dialect: Dialect) -> str:
    for name, cls in list(Dialect._classes.items()):
        if cls is type(dialect):
            return name
    return _dialect_by_walk(dialect)


sqlframe.base.util.dialect_to_string = _dialect_to_string

import flowdef.local.attempt  # noqa: F401,E402
import flowdef.local.dbutils  # noqa: F401,E402
import flowdef.local.spark  # noqa: F401,E402
import flowdef.local.sql  # noqa: F401,E402
import flowdef.runtime  # noqa: F401,E402

# sqlglot warns on stderr for every statement it keeps as an opaque Command; the local engine reports those
# itself, as task errors.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

# The fork server ends when the engine's process does; tearing down DuckDB, numpy & co. module by module takes
# ~0.3 s, during which it still holds the engine's stdout/stderr (so `flowdef run ... | tee` would wait for it).
# Attempts never run atexit handlers (multiprocessing ends them with os._exit), so this only ends the server.
atexit.register(os._exit, 0)
