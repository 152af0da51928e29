"""Databricks SQL on DuckDB: split a SQL file into statements, translate each with sqlglot, execute it.

What does not transpile by itself is handled here, explicitly:

- ``${name}`` (legacy substitution) is replaced by the parameter's text before anything else;
- ``:name`` parameter markers are bound as string literals from the task's parameters (job parameters are pushed
  down to SQL tasks, the task's own ``parameters`` win) — ``x:field`` (JSON path, no space) is left alone;
- ``IDENTIFIER(expr)`` is evaluated (a constant string expression) and replaced by the quoted name it denotes;
- ``USE CATALOG c`` / ``USE SCHEMA s`` / ``USE [DATABASE] s`` / ``CREATE SCHEMA`` / ``CREATE CATALOG`` map to
  DuckDB's attached databases and schemas; the schema of a ``CREATE TABLE``/``VIEW`` target is created on demand;
- ``read_files(path, format => ..., ...)`` becomes DuckDB's ``read_csv``/``read_json``/``read_parquet`` over the
  mapped volume files, with Databricks' documented defaults (see :mod:`flowdef.local.files`);
- ``SELECT * EXCEPT (...)`` is DuckDB's ``EXCLUDE`` (sqlglot does this one).

Anything else is allowed only when it is a statement kind known to mean the same on both engines and sqlglot
generates it without an "unsupported" warning; otherwise the task fails with a message naming the file, the
statement and its line — never a silently different answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from flowdef.local.files import FileReadError, read_files_relation
from flowdef.local.workspace import LocalWorkspace, WorkspaceError, quote_duckdb

_LEGACY = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")
MAX_OUTPUT_ROWS = 1000


class SqlTaskError(Exception):
    """A statement that failed or cannot be run faithfully; the message names file, statement and line."""


@dataclass
class Statement:
    number: int  # 1-based
    line: int  # 1-based line in the file
    text: str


@dataclass
class SqlResult:
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    truncated: bool = False
    statements: int = 0


def substitute_legacy(text: str, params: dict[str, str]) -> str:
    """``${name}`` -> the parameter's text (Databricks' legacy substitution is textual)."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in params:
            line = text.count("\n", 0, m.start()) + 1
            raise SqlTaskError(f"line {line}: ${{{name}}} has no value; parameters: {', '.join(sorted(params)) or '(none)'}")
        return params[name]

    return _LEGACY.sub(repl, text)


def split_statements(text: str) -> list[Statement]:
    """Statements of a SQL file with their first line, split on top-level semicolons by sqlglot's tokenizer."""
    from sqlglot.dialects import Databricks
    from sqlglot.tokens import TokenType

    tokens = Databricks().tokenize(text)
    out: list[Statement] = []
    start_tok = None
    last_tok = None
    for tok in tokens:
        if tok.token_type == TokenType.SEMICOLON:
            if start_tok is not None and last_tok is not None:
                out.append(Statement(len(out) + 1, start_tok.line, text[start_tok.start:last_tok.end + 1]))
            start_tok = last_tok = None
            continue
        if start_tok is None:
            start_tok = tok
        last_tok = tok
    if start_tok is not None and last_tok is not None:
        out.append(Statement(len(out) + 1, start_tok.line, text[start_tok.start:last_tok.end + 1]))
    return out


def _literal(value: str) -> str:
    from sqlglot import exp

    return exp.Literal.string(value).sql("databricks")


def quote_name(parts: list[str]) -> str:
    return ".".join("`" + p.replace("`", "``") + "`" for p in parts)


def split_identifier(value: str) -> list[str]:
    """``a.`b.c`.d`` -> ``["a", "b.c", "d"]`` (what IDENTIFIER's string names)."""
    parts: list[str] = []
    buf = ""
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "`":
            end = value.find("`", i + 1)
            while end >= 0 and end + 1 < len(value) and value[end + 1] == "`":
                end = value.find("`", end + 2)
            if end < 0:
                raise SqlTaskError(f"IDENTIFIER({value!r}): unterminated backtick")
            buf += value[i + 1:end].replace("``", "`")
            i = end + 1
        elif ch == ".":
            parts.append(buf)
            buf = ""
            i += 1
        else:
            buf += ch
            i += 1
    parts.append(buf)
    if any(not p.strip() for p in parts):
        raise SqlTaskError(f"IDENTIFIER({value!r}) does not name an object (empty part)")
    return [p.strip() if not p.startswith(" ") else p for p in parts]


class SqlRunner:
    """Runs Databricks SQL statements on one DuckDB connection of a local workspace."""

    def __init__(self, conn: Any, workspace: LocalWorkspace, params: dict[str, str]) -> None:
        self.conn = conn
        self.workspace = workspace
        self.params = params

    # -- text rewriting ---------------------------------------------------------------------------------------
    def bind(self, text: str) -> str:
        """Markers bound and IDENTIFIER(...) resolved, by token spans (comments and strings are safe)."""
        from sqlglot.dialects import Databricks
        from sqlglot.tokens import TokenType

        tokens = Databricks().tokenize(text)
        edits: list[tuple[int, int, str]] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if tok.token_type == TokenType.COLON and nxt is not None and nxt.start == tok.end + 1 and nxt.token_type in (
                TokenType.VAR, TokenType.IDENTIFIER
            ) or (tok.token_type == TokenType.COLON and nxt is not None and nxt.start == tok.end + 1
                  and nxt.text.isidentifier()):
                prev = tokens[i - 1] if i else None
                json_path = prev is not None and prev.end + 1 == tok.start and prev.token_type in (
                    TokenType.VAR, TokenType.IDENTIFIER, TokenType.R_PAREN, TokenType.R_BRACKET
                )
                if not json_path:
                    name = nxt.text
                    if name not in self.params:
                        raise SqlTaskError(
                            f"parameter marker :{name} has no value; parameters: {', '.join(sorted(self.params)) or '(none)'}"
                        )
                    edits.append((tok.start, nxt.end + 1, _literal(self.params[name])))
                    i += 2
                    continue
            if (tok.token_type == TokenType.VAR and tok.text.upper() == "IDENTIFIER" and nxt is not None
                    and nxt.token_type == TokenType.L_PAREN):
                depth, j = 0, i + 1
                while j < len(tokens):
                    if tokens[j].token_type == TokenType.L_PAREN:
                        depth += 1
                    elif tokens[j].token_type == TokenType.R_PAREN:
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                if j >= len(tokens):
                    raise SqlTaskError("IDENTIFIER( without its closing parenthesis")
                inner = self.bind(text[nxt.end + 1:tokens[j].start])
                edits.append((tok.start, tokens[j].end + 1, quote_name(split_identifier(self._constant(inner)))))
                i = j + 1
                continue
            i += 1
        for start, end, new in sorted(edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text

    def _constant(self, expr_text: str) -> str:
        """Evaluate IDENTIFIER's argument: a constant string expression (literals, ``||``, concat, ...)."""
        import sqlglot
        from sqlglot import exp

        try:
            node = sqlglot.parse_one(expr_text, read="databricks")
        except sqlglot.errors.ParseError as exc:
            raise SqlTaskError(f"IDENTIFIER({expr_text.strip()}): {exc}") from None
        if list(node.find_all(exp.Column)):
            raise SqlTaskError(f"IDENTIFIER({expr_text.strip()}) must be a constant string expression")
        row = self.conn.execute("SELECT " + node.sql("duckdb")).fetchone()
        if row is None or not isinstance(row[0], str):
            raise SqlTaskError(f"IDENTIFIER({expr_text.strip()}) must evaluate to a string, got {row and row[0]!r}")
        return row[0]

    # -- translation ------------------------------------------------------------------------------------------
    def translate(self, text: str) -> tuple[str | None, bool]:
        """Databricks statement -> (DuckDB SQL or None when handled here, returns_rows)."""
        import sqlglot
        from sqlglot import exp

        try:
            node = sqlglot.parse_one(text, read="databricks")
        except sqlglot.errors.ParseError as exc:
            raise SqlTaskError(f"cannot parse: {_first_line(str(exc))}") from None
        if node is None:
            return None, False
        if isinstance(node, exp.Use):
            self._use(node)
            return None, False
        if isinstance(node, exp.Command):
            return self._command(node)
        if isinstance(node, exp.Create) and str(node.args.get("kind") or "").upper() in ("SCHEMA", "DATABASE"):
            self._ensure_schema(node.this, create_exists=bool(node.args.get("exists")))
            return None, False
        if isinstance(node, exp.Drop) and str(node.args.get("kind") or "").upper() in ("SCHEMA", "DATABASE"):
            node.set("kind", "SCHEMA")
        allowed = (exp.Query, exp.Create, exp.Drop, exp.Insert, exp.Delete, exp.Update, exp.Merge, exp.Describe)
        if not isinstance(node, allowed):
            raise SqlTaskError(f"{type(node).__name__.upper()} statements are not supported by the local engine")
        if isinstance(node, exp.Insert) and node.args.get("overwrite"):
            raise SqlTaskError("INSERT OVERWRITE is not supported by the local engine")
        if isinstance(node, exp.Create):
            kind = str(node.args.get("kind") or "").upper()
            if kind not in ("TABLE", "VIEW"):
                raise SqlTaskError(f"CREATE {kind} is not supported by the local engine")
            props = node.args.get("properties")
            if props is not None:
                for prop in props.expressions:
                    # USING DELTA is what a table is on Databricks; other properties change meaning.
                    if isinstance(prop, exp.FileFormatProperty) and prop.name.upper() == "DELTA":
                        prop.pop()
                        continue
                    raise SqlTaskError(f"table property {prop.sql('databricks')} is not supported by the local engine")
                if not node.args["properties"].expressions:
                    node.set("properties", None)
            target = node.this.this if isinstance(node.this, exp.Schema) else node.this
            if isinstance(target, exp.Table):
                self._ensure_schema_of(target)
        for call in list(node.find_all(exp.Anonymous)):
            name = call.name.lower()
            if name == "read_files":
                call.parent.replace(self._read_files(call)) if isinstance(call.parent, exp.Table) else _fail_rf()
            elif name in ("assert_true", "raise_error"):
                call.replace(_error_call(name, call.expressions))
        try:
            sql = node.sql("duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)
        except sqlglot.errors.UnsupportedError as exc:
            raise SqlTaskError(f"not translatable to DuckDB faithfully: {exc}") from None
        return sql, isinstance(node, (exp.Query, exp.Describe))

    def _read_files(self, call: Any) -> Any:
        from sqlglot import exp

        args = call.expressions
        if not args or not isinstance(args[0], exp.Literal) or not args[0].is_string:
            raise SqlTaskError("read_files: the first argument must be a constant path string")
        options: dict[str, Any] = {}
        for arg in args[1:]:
            if not isinstance(arg, (exp.Kwarg, exp.PropertyEQ)):
                raise SqlTaskError("read_files takes its options as name => value")
            value = arg.expression
            if isinstance(value, exp.Boolean):
                options[arg.this.name] = value.this
            elif isinstance(value, exp.Literal):
                options[arg.this.name] = value.this if value.is_string else value.to_py()
            else:
                raise SqlTaskError(f"read_files option {arg.this.name}: only literal values are supported locally")
        try:
            relation = read_files_relation(self.workspace, args[0].this, options)
        except (FileReadError, WorkspaceError) as exc:
            raise SqlTaskError(str(exc)) from None
        parent = call.parent
        alias = parent.args.get("alias")
        sub = exp.Subquery(this=_parse_duckdb(relation), alias=alias or exp.TableAlias(this=exp.to_identifier("read_files")))
        return sub

    def _command(self, node: Any) -> tuple[str | None, bool]:
        head = node.this.upper()
        rest = node.expression.sql("databricks") if node.expression is not None else ""
        rest = node.expression.this if hasattr(node.expression, "this") and isinstance(node.expression.this, str) else rest
        if head == "CREATE" and re.match(r"\s*CATALOG\b", rest, re.I):
            m = re.match(r"\s*CATALOG\s+(IF\s+NOT\s+EXISTS\s+)?(`[^`]+`|[\w]+)\s*$", rest, re.I)
            if not m:
                raise SqlTaskError("CREATE CATALOG: only `CREATE CATALOG [IF NOT EXISTS] name` is supported locally")
            name = m.group(2).strip("`")
            exists = name in self.workspace.catalogs()
            if exists and not m.group(1):
                raise SqlTaskError(f"catalog {name!r} already exists")
            self.workspace.create_catalog(name)
            self.workspace.attach(self.conn, name)
            return None, False
        raise SqlTaskError(f"{head} statements are not supported by the local engine")

    # -- catalogs and schemas ---------------------------------------------------------------------------------
    def current(self) -> tuple[str, str]:
        row = self.conn.execute("SELECT current_database(), current_schema()").fetchone()
        return str(row[0]), str(row[1])

    def _catalog_exists(self, catalog: str) -> bool:
        rows = self.conn.execute("SELECT database_name FROM duckdb_databases()").fetchall()
        return catalog in {r[0] for r in rows}

    def _require_catalog(self, catalog: str) -> None:
        if not self._catalog_exists(catalog):
            raise SqlTaskError(
                f"catalog {catalog!r} does not exist in the local workspace ({self.workspace.root}); "
                "create it with CREATE CATALOG or put files in its volume"
            )

    def ensure_schema(self, catalog: str, schema: str) -> None:
        self._require_catalog(catalog)
        self.conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_duckdb(catalog)}.{quote_duckdb(schema)}")

    def _ensure_schema(self, table: Any, create_exists: bool) -> None:
        # CREATE SCHEMA a.b parses as a Table whose db is b and catalog a.
        schema = table.args.get("db") or table.this
        catalog = table.args.get("catalog") if table.args.get("db") else None
        cat = catalog.name if catalog is not None else self.current()[0]
        self.ensure_schema(cat, schema.name)

    def _ensure_schema_of(self, table: Any) -> None:
        db = table.args.get("db")
        if db is None:
            return
        catalog = table.args.get("catalog")
        self.ensure_schema(catalog.name if catalog is not None else self.current()[0], db.name)

    def _use(self, node: Any) -> None:
        kind = str(node.args.get("kind") or "").upper()
        table = node.this
        if kind == "CATALOG":
            name = table.name
            self._require_catalog(name)
            self.conn.execute(f"USE {quote_duckdb(name)}")
            return
        db = table.args.get("db")
        if db is not None:  # USE catalog.schema
            catalog, schema = db.name, table.name
        else:
            catalog, schema = self.current()[0], table.name
        self.ensure_schema(catalog, schema)
        self.conn.execute(f"USE {quote_duckdb(catalog)}.{quote_duckdb(schema)}")

    # -- execution --------------------------------------------------------------------------------------------
    def run_statement(self, text: str) -> tuple[list[str], list[tuple[Any, ...]], bool] | None:
        """Run one statement; its columns and rows when it returns rows."""
        sql, returns_rows = self.translate(self.bind(text))
        if sql is None:
            return None
        import duckdb

        try:
            cur = self.conn.execute(sql)
        except duckdb.Error as exc:
            raise SqlTaskError(f"{type(exc).__name__}: {_first_line(str(exc))}") from None
        if not returns_rows:
            return None
        columns = [d[0] for d in cur.description or []]
        rows = cur.fetchmany(MAX_OUTPUT_ROWS + 1)
        return columns, rows, len(rows) > MAX_OUTPUT_ROWS

    def run_file(self, text: str, source: str, on_statement: Callable[[Statement], None] | None = None,
                 note: str = "") -> SqlResult:
        """Run every statement of a SQL file; the result rows are those of the last statement returning rows.
        A failure names ``source`` and the statement's line, then ``note`` (where the file comes from)."""
        try:
            text = substitute_legacy(text, self.params)
        except SqlTaskError as exc:
            raise SqlTaskError(f"{source}: {exc}{note}") from None
        result = SqlResult()
        for stmt in split_statements(text):
            if on_statement:
                on_statement(stmt)
            try:
                out = self.run_statement(stmt.text)
            except SqlTaskError as exc:
                raise SqlTaskError(
                    f"{source}:{stmt.line}: statement {stmt.number}: {exc}{note}\n    {_excerpt(stmt.text)}"
                ) from None
            result.statements += 1
            if out is not None:
                columns, rows, truncated = out
                result.columns = columns
                result.rows = [list(r) for r in rows[:MAX_OUTPUT_ROWS]]
                result.truncated = truncated
        return result


def _error_call(name: str, args: list[Any]) -> Any:
    """Databricks ``assert_true(cond[, msg])`` (an error unless cond is TRUE; NULL otherwise) and
    ``raise_error(msg)`` as DuckDB's ``error(msg)``."""
    from sqlglot import exp

    if name == "raise_error":
        if len(args) != 1:
            raise SqlTaskError("raise_error takes one argument")
        return exp.Anonymous(this="error", expressions=[args[0]])
    if not 1 <= len(args) <= 2:
        raise SqlTaskError("assert_true takes one or two arguments")
    message = args[1] if len(args) == 2 else exp.Literal.string(f"'{args[0].sql('databricks')}' is not true!")
    return exp.Case(ifs=[exp.If(this=args[0], true=exp.Null())],
                    default=exp.Anonymous(this="error", expressions=[message]))


def _fail_rf() -> None:
    raise SqlTaskError("read_files can only be used as a table in FROM")


def _parse_duckdb(sql: str) -> Any:
    import sqlglot

    return sqlglot.parse_one(sql, read="duckdb")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _excerpt(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."
