"""``flowdef export``: the project's jobs in another format.

``--format bundle`` writes a Databricks Asset Bundle (``databricks.yml``, ``resources/<job>.job.yml`` and the
files the jobs reference under ``_flowdef/<target>/``; see :mod:`flowdef.convert.bundle`); ``--format json``
writes the raw ``jobs/create`` payloads, exactly what ``compile`` writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "write the jobs as a Databricks Asset Bundle (or as raw JSON payloads)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from flowdef.cli._args import add_paths

    add_paths(p)
    p.add_argument("-t", "--target", help="export this target only (default: every target of the config)")
    p.add_argument("--format", choices=("bundle", "json"), default="bundle",
                   help="bundle: databricks.yml + resources/*.job.yml (default); json: jobs/create payloads")
    p.add_argument("--out", default=None, help="output folder (default: build/bundle, or build for json)")


def run(args) -> int:
    from flowdef.cli._common import emit, project

    opened = project(args)
    config, target, proj = opened.config, opened.target, opened.loaded
    # a bundle deploys to workspaces: `engine = "local"` targets run on this machine and are not exported
    targets = [target] if args.target else [t for t in config.targets if t.engine != "local"]
    from flowdef.diagnostics import has_errors, summary
    from flowdef.validate import validate_project

    for t in targets:
        diags = validate_project(proj, t)
        emit(diags, "text")
        if has_errors(diags):
            print(f"export failed: target {t.name}: {summary(diags)}; nothing written", file=sys.stderr)
            return 1
    if args.format == "json":
        from flowdef.cli.compile import outputs

        files = {rel: text.encode("utf-8") for rel, text in outputs(proj, target, config).items()}
        out = Path(args.out or "build")
    else:
        from flowdef.convert.bundle import export_bundle

        result = export_bundle(config, proj.jobs, targets, target.name)
        if result.problems:
            for problem in result.problems:
                print(f"error: {problem}", file=sys.stderr)
            print(f"export failed: {len(result.problems)} problem(s); nothing written", file=sys.stderr)
            return 1
        files = dict(result.files)
        out = Path(args.out or "build/bundle")
        for note in result.notes:
            print(f"note: {note}", file=sys.stderr)
    written = 0
    for rel, data in files.items():
        path = out / rel
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written += 1
    what = "bundle" if args.format == "bundle" else "payloads"
    scope = f"target {target.name}" if args.target else f"targets {', '.join(t.name for t in targets)}"
    print(f"exported {len(proj.jobs)} jobs ({scope}) as {what} into {out}/ ({len(files)} files, {written} changed)")
    return 0
