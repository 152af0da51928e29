"""Imported once by the fork server so that each attempt's process starts warm (see isolation.py)."""

import logging

import duckdb  # noqa: F401
import sqlframe  # noqa: F401
import sqlframe.duckdb  # noqa: F401
import sqlglot  # noqa: F401
from sqlglot.dialects import Databricks, DuckDB  # noqa: F401

import flowdef.local.attempt  # noqa: F401
import flowdef.local.dbutils  # noqa: F401
import flowdef.local.spark  # noqa: F401
import flowdef.local.sql  # noqa: F401
import flowdef.runtime  # noqa: F401

# sqlglot warns on stderr for every statement it keeps as an opaque Command; the local engine reports those
# itself, as task errors.
logging.getLogger("sqlglot").setLevel(logging.ERROR)
