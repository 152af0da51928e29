"""The local engine: run a project's jobs on this machine — SQL on DuckDB (via sqlglot), PySpark on sqlframe.

The only package that imports duckdb, sqlglot or sqlframe, always lazily.  Layout:

- :mod:`~flowdef.local.workspace` — the per-target folder: catalogs (DuckDB files), volumes, runs, logs;
- :mod:`~flowdef.local.sql`, :mod:`~flowdef.local.files` — Databricks SQL and ``read_files`` on DuckDB;
- :mod:`~flowdef.local.spark`, :mod:`~flowdef.local.dbutils` — ``spark`` / ``dbutils`` / ``display`` for PySpark code;
- :mod:`~flowdef.local.attempt` — one task attempt (the data plane's single entry point);
- :mod:`~flowdef.local.isolation` — each attempt in its own forked process;
- :mod:`~flowdef.local.example_data` — the smart-claims data generator.
"""
