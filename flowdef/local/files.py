"""Reading volume files the way Databricks does, on DuckDB: ``read_files(...)`` and ``spark.read``.

Defaults differ between the two Databricks readers, and both differ from DuckDB's, so each is spelled out:

| option | ``read_files`` (SQL) | ``spark.read`` (PySpark) | DuckDB default |
|---|---|---|---|
| header (csv) | false | false | sniffed |
| column types (csv) | inferred (``inferColumnTypes`` true) | all STRING (``inferSchema`` false) | sniffed |
| inference sample | every row | every row (when on) | 20,480 rows -> we pass ``sample_size = -1`` |
| dates recognised | ``yyyy-MM-dd`` only | ``yyyy-MM-dd`` only | many formats -> we pin ISO |
| null text | empty field | empty field | empty field |
| ``_rescued_data`` | added when the schema is inferred | not added | n/a |

Sources: the ``read_files`` reference (docs.databricks.com/sql/language-manual/functions/read_files) and
public code reading it ("read_files adds a _rescued_data column when inferring a schema"); Spark's
DataFrameReader.csv reference.  Because inference reads every row here, no value is ever rescued, so
``_rescued_data`` is always NULL — which is what Databricks gives for files that match their inferred schema.

Paths: ``/Volumes/...`` only (mapped by the workspace); globs ``* ? [..] {a,b}`` within a path segment; a
folder means every file under it (``read_files`` recurses; hidden and ``_``-prefixed files are skipped).
Unknown options fail the task: silently ignoring one could change the answer.
"""

from __future__ import annotations

import glob
import os
import re
from typing import Any

from flowdef.local.workspace import LocalWorkspace


class FileReadError(Exception):
    pass


_FORMATS = {"csv": "read_csv", "json": "read_json", "parquet": "read_parquet"}
_TRUE = {"true", "1", "yes"}


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def expand_braces(pattern: str) -> list[str]:
    m = re.search(r"\{([^{}]*)\}", pattern)
    if not m:
        return [pattern]
    out: list[str] = []
    for alt in m.group(1).split(","):
        out.extend(expand_braces(pattern[: m.start()] + alt + pattern[m.end():]))
    return out


def _visible(path: str) -> bool:
    name = os.path.basename(path)
    return not (name.startswith(".") or name.startswith("_"))


def resolve_files(workspace: LocalWorkspace, path: str, *, recursive: bool) -> list[str]:
    """The local files a Databricks path names, sorted; an error when there are none (as on Databricks)."""
    local = workspace.local_path(path)
    files: list[str] = []
    for pattern in expand_braces(local):
        if any(ch in pattern for ch in "*?["):
            for hit in sorted(glob.glob(pattern)):
                if os.path.isdir(hit):
                    files.extend(_folder(hit, recursive))
                elif _visible(hit):
                    files.append(hit)
        elif os.path.isdir(pattern):
            files.extend(_folder(pattern, recursive))
        elif os.path.isfile(pattern):
            files.append(pattern)
    files = sorted(dict.fromkeys(files))
    if not files:
        raise FileReadError(f"[PATH_NOT_FOUND] no file matches {path} (looked in {local})")
    return files


def _folder(folder: str, recursive: bool) -> list[str]:
    if recursive:
        out: list[str] = []
        for base, dirs, names in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if _visible(d))
            out.extend(os.path.join(base, n) for n in sorted(names) if _visible(n))
        return out
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if _visible(n) and os.path.isfile(os.path.join(folder, n)))


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def csv_arguments(options: dict[str, Any], *, infer_default: bool) -> list[str]:
    """DuckDB ``read_csv`` named arguments for Spark/Databricks CSV options (unknown options refused)."""
    opts = {k.lower(): v for k, v in options.items()}
    args = [f"header = {'true' if _bool(opts.pop('header', False)) else 'false'}"]
    infer = infer_default
    for key in ("inferschema", "infercolumntypes"):
        if key in opts:
            infer = _bool(opts.pop(key))
    if infer:
        args += ["sample_size = -1", "dateformat = '%Y-%m-%d'", "timestampformat = '%Y-%m-%dT%H:%M:%S.%f'"]
    else:
        args.append("all_varchar = true")
    sep = opts.pop("sep", opts.pop("delimiter", None))
    if sep is not None:
        args.append(f"delim = {_text(str(sep))}")
    if "quote" in opts:
        args.append(f"quote = {_text(str(opts.pop('quote')))}")
    if "escape" in opts:
        args.append(f"escape = {_text(str(opts.pop('escape')))}")
    if "nullvalue" in opts:
        args.append(f"nullstr = {_text(str(opts.pop('nullvalue')))}")
    encoding = str(opts.pop("encoding", opts.pop("charset", "utf-8"))).lower().replace("_", "-")
    if encoding not in ("utf-8", "utf8"):
        raise FileReadError(f"CSV encoding {encoding!r} is not supported by the local engine (UTF-8 only)")
    mode = str(opts.pop("mode", "PERMISSIVE")).upper()
    if mode == "FAILFAST":
        args.append("ignore_errors = false")
    elif mode != "PERMISSIVE":
        raise FileReadError(f"CSV mode {mode!r} is not supported by the local engine")
    opts.pop("multiline", None)  # DuckDB reads quoted newlines either way
    if opts:
        raise FileReadError(f"CSV option(s) {', '.join(sorted(opts))} not supported by the local engine")
    return args


def read_files_relation(workspace: LocalWorkspace, path: str, options: dict[str, Any]) -> str:
    """A DuckDB ``SELECT`` equivalent to ``read_files(path, **options)``."""
    opts = dict(options)
    fmt = str(opts.pop("format", "") or "").lower()
    if not fmt:
        exts = {os.path.splitext(p)[1].lstrip(".").lower() for p in expand_braces(path)}
        fmt = exts.pop() if len(exts) == 1 else ""
    if fmt not in _FORMATS:
        raise FileReadError(f"read_files: format {fmt or '(not given)'!r} is not supported locally (csv, json, parquet)")
    if "schema" in {k.lower() for k in opts}:
        raise FileReadError("read_files: the schema option is not supported by the local engine")
    files = resolve_files(workspace, path, recursive=True)
    listing = "[" + ", ".join(_text(f) for f in files) + "]"
    if fmt == "csv":
        args = csv_arguments(opts, infer_default=True)
    elif fmt == "json":
        multiline = _bool(opts.pop("multiLine", opts.pop("multiline", False)))
        opts.pop("inferColumnTypes", None)
        if opts:
            raise FileReadError(f"JSON option(s) {', '.join(sorted(opts))} not supported by the local engine")
        args = ["format = 'array'" if multiline else "format = 'newline_delimited'", "sample_size = -1"]
    else:
        if opts:
            raise FileReadError(f"Parquet option(s) {', '.join(sorted(opts))} not supported by the local engine")
        args = []
    call = f"{_FORMATS[fmt]}({', '.join([listing, *args])})"
    if fmt == "parquet":
        return f"SELECT * FROM {call}"
    return f"SELECT *, CAST(NULL AS VARCHAR) AS _rescued_data FROM {call}"
