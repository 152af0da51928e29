"""Imported once by the fork server so that each attempt's process starts warm (see isolation.py)."""

import logging

import duckdb  # noqa: F401
import sqlframe  # noqa: F401
import sqlframe.duckdb  # noqa: F401
import sqlglot  # noqa: F401
from sqlglot.dialects import Databricks, DuckDB  # noqa: F401

# What a PySpark attempt would otherwise import on first use (measured: ~0.5 s per attempt): numpy (DuckDB's
# results), sqlframe's functions and testing modules, and every sqlglot dialect (sqlframe's dialect lookup walks
# them all).
import fractions  # noqa: F401
import pickle  # noqa: F401
import zoneinfo  # noqa: F401

import numpy  # noqa: F401
import sqlframe.duckdb.functions  # noqa: F401
import sqlframe.testing  # noqa: F401
from sqlglot.dialects.dialect import Dialect, Dialects

for _dialect in Dialects:
    if _dialect.value:
        try:
            Dialect.get_or_raise(_dialect.value)
        except Exception:  # noqa: BLE001 - a dialect that fails to load is simply not preloaded
            pass

import flowdef.local.attempt  # noqa: F401,E402
import flowdef.local.dbutils  # noqa: F401,E402
import flowdef.local.spark  # noqa: F401,E402
import flowdef.local.sql  # noqa: F401,E402
import flowdef.runtime  # noqa: F401,E402

# sqlglot warns on stderr for every statement it keeps as an opaque Command; the local engine reports those
# itself, as task errors.
logging.getLogger("sqlglot").setLevel(logging.ERROR)
