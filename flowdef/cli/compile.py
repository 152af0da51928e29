"""``flowdef compile``: one ``<out>/<job>.json`` per job (the ``jobs/create`` body), ``<out>/<job>.deploy.json``
when deploy fills in values only the workspace knows (path -> placeholder), and the rendered SQL files beside
it in ``<out>/<job>/<task>.sql``.  ``--check`` writes nothing and fails on any drift."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import argparse

from flowdef.cli._args import add_format, add_paths, add_target
from flowdef.cli._common import config_and_target, emit, paths
from flowdef.diagnostics import has_errors, summary

TEARDOWN = False  # holds nothing but memory: the process may end without freeing it (flowdef.__main__)
HELP = "write Jobs API 2.2 payloads (and rendered SQL) per job"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_paths(p)
    add_target(p)
    p.add_argument("--out", default="build", help="output folder (default: build/)")
    p.add_argument("--check", action="store_true", help="fail if the files on disk differ (a CI drift gate)")
    add_format(p, "text", "json", "github", help="diagnostics format")


def outputs(proj, target, config) -> dict[str, str]:
    """Relative file name -> content for every job of the project."""
    from flowdef.compile.compiler import compile_files

    return compile_files(proj.jobs, target, config)


def run(args) -> int:
    config, target = config_and_target(args)
    from flowdef.validate.parallel import check_project

    checked = check_project(config, target, paths(args), compile=True)
    diags = list(checked.diagnostics)
    emit(diags, args.format)
    if has_errors(diags) or checked.files is None:
        print(f"compile failed: {summary(diags)}; nothing written", file=sys.stderr)
        return 1
    files = checked.files
    out = Path(args.out)
    if args.check:
        return _check(out, files)
    written = 0
    try:
        out.mkdir(parents=True, exist_ok=True)
        made = {out}  # each folder once: a monorepo writes thousands of files into a few hundred folders
        for rel, content in files.items():
            path = out / rel
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            if _current(path) != content:
                path.write_text(content, encoding="utf-8")
                written += 1
    except OSError as exc:
        print(f"error: cannot write the compiled files to {out}/: {exc.strerror or exc} ({exc.filename}); "
              "choose another --out folder", file=sys.stderr)
        return 1
    print(f"compiled {checked.jobs} jobs for target {target.name} into {out}/ "
          f"({len(files)} files, {written} changed)")
    return 0


def _current(path: Path) -> str | None:
    """The file's text, None when there is none (one open instead of a stat and an open)."""
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def _check(out: Path, files: dict[str, str]) -> int:
    drift = []
    for rel, content in files.items():
        path = out / rel
        if not path.exists():
            drift.append(f"{path}: missing (run `python -m flowdef compile` and commit it)")
            continue
        current = path.read_text(encoding="utf-8")
        if current != content:
            diff = difflib.unified_diff(
                current.splitlines(), content.splitlines(), f"{path} (on disk)", f"{path} (compiled)", lineterm="", n=1
            )
            drift.append("\n".join(list(diff)[:40]))
    expected = {str(out / rel) for rel in files}
    if out.is_dir():
        for path in sorted(out.rglob("*")):
            if path.is_file() and path.suffix in (".json", ".sql") and str(path) not in expected:
                drift.append(f"{path}: no longer produced by any job (delete it)")
    if drift:
        print("\n".join(drift))
        print(f"drift: {len(drift)} file(s) differ from the compiled output", file=sys.stderr)
        return 1
    print(f"ok: {len(files)} files in {out}/ match the compiled output")
    return 0
