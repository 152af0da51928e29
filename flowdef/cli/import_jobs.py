"""``flowdef import``: existing jobs as flowdef modules under ``pipelines/`` (``import`` is a Python keyword,
hence the module name).

    python -m flowdef import jobs/nightly.json resources/etl.job.yml    # jobs/get or jobs/create JSON, bundle YAML
    python -m flowdef import 123 456 [--target prod] [--bind]           # jobs of the target's workspace
    python -m flowdef import --all-unmanaged [--bind]                   # every job flowdef does not manage there

Each job becomes ``pipelines/<job key>.py`` (SQL files become templates under ``sql_templates/``); the modules are
then validated and compiled, and the command says whether each compiles back to the job it came from.
``--bind`` tags the workspace jobs with this project's identity, so the next ``apply`` updates them instead of
creating duplicates.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NAME = "import"
HELP = "import existing jobs (JSON, bundle YAML or workspace jobs) as flowdef modules"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("sources", nargs="*", metavar="FILE_OR_JOB_ID",
                   help="jobs/get or jobs/create JSON files, bundle YAML files, or workspace job ids")
    p.add_argument("-t", "--target", help="target from the project config (default: its default_target)")
    p.add_argument("--all-unmanaged", action="store_true",
                   help="import every job of the target's workspace that flowdef does not manage")
    p.add_argument("--bind", action="store_true",
                   help="tag the imported workspace jobs so the next apply adopts them (updates, no duplicates)")
    p.add_argument("--force", action="store_true", help="overwrite modules and templates that already exist")


def run(args) -> int:
    from flowdef.cli._common import enter
    from flowdef.convert.importer import ImportError_, convert, job_key, read_file
    from flowdef.load.config import load_config

    try:
        import flowdef.wire.decode  # noqa: F401 - the per-kind table's decode direction does the reading
    except ImportError:  # pragma: no cover - only in a build without it
        print("error: import needs flowdef.wire.decode (the per-kind decode), which this build lacks",
              file=sys.stderr)
        return 1
    enter(args)
    config = load_config(Path.cwd(), Path(args.config) if getattr(args, "config", None) else None)
    target = config.target(args.target)
    if not args.sources and not args.all_unmanaged:
        print("error: name the jobs to import: files, job ids, or --all-unmanaged", file=sys.stderr)
        return 2
    files = [s for s in args.sources if not s.isdigit()]
    ids = [int(s) for s in args.sources if s.isdigit()]
    sources = []
    try:
        for f in files:
            sources += read_file(Path(f), args.target)
        ws = None
        if ids or args.all_unmanaged:
            from flowdef.convert.workspace import read_jobs
            from flowdef.deploy.session import connect

            ws = connect(target)
            sources += read_jobs(ws, ids, all_unmanaged=args.all_unmanaged)
        if args.bind and any(s.job_id is None for s in sources):
            print("error: --bind adopts workspace jobs: import them by id (or --all-unmanaged)", file=sys.stderr)
            return 2
        keys: dict[str, str] = {}
        for s in sources:
            key = job_key(s.payload, target, s.key)
            base, n = key, 2
            while key in keys:
                key, n = f"{base}_{n}", n + 1
            keys[key] = s.origin
        job_ids = {s.job_id: key for s, key in zip(sources, keys) if s.job_id is not None}
        imported = [convert(s, config, target, key=key, job_ids=job_ids) for s, key in zip(sources, keys)]
    except ImportError_ as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not imported:
        print("nothing to import")
        return 0
    written = _write(config, imported, args.force)
    if written is None:
        return 1
    code = _verify(config, target, imported)
    if args.bind and ws is not None and code == 0:
        from flowdef.convert.workspace import bind

        for item in imported:
            if item.job_id is not None:
                bind(ws, item.job_id, project=config.project, target=target.name, key=item.key)
                print(f"bound job {item.job_id} to {item.key}: the next apply (target {target.name}) updates it")
    return code


def _write(config, imported, force: bool) -> int | None:
    outputs: dict[Path, str] = {}
    for item in imported:
        outputs[config.root / item.module_path] = item.source
        for rel, text in item.templates:
            outputs[config.templates_dir / rel] = text
    existing = [p for p, text in outputs.items() if p.exists() and p.read_text(encoding="utf-8") != text]
    if existing and not force:
        for p in existing:
            print(f"error: {p} exists (use --force to overwrite it)", file=sys.stderr)
        return None
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return len(outputs)


def _verify(config, target, imported) -> int:
    """Load, validate and compile what was written; say how each job compares with what it came from."""
    from flowdef.cli._common import emit
    from flowdef.compile.compiler import compile_job
    from flowdef.diagnostics import has_errors
    from flowdef.load.loader import load
    from flowdef.validate import validate_project

    loaded = load(config, [str(config.root / i.module_path) for i in imported])
    diags = validate_project(loaded, target)
    emit(diags, "text")
    for item in imported:
        job = loaded.job(item.key)
        where = f"{item.module_path}"
        if job is None:
            print(f"{item.origin}: written to {where}, but it did not load (see above)")
            continue
        compiled = compile_job(job, target, config, render_sql=False)
        # a payload read from a bundle holds deploy-time references in place; compile lists them beside
        diffs = min((differences(item.payload, json.loads(json.dumps(body))) for body in (
            compiled.payload, getattr(compiled, "deploy_payload", compiled.payload))), key=len)
        same = "compiles back to the same job" if not diffs else \
            "compiles to the same job except " + "; ".join(diffs[:4]) + ("; ..." if len(diffs) > 4 else "")
        print(f"imported {item.origin} as {item.key} into {where}: {len(job.all_tasks())} tasks; {same}")
        for note in item.notes:
            print(f"  note: {note}")
    if has_errors(diags):
        print("the imported modules have problems (see above): fix them before deploying", file=sys.stderr)
        return 1
    return 0


def differences(before: dict, after: dict) -> list[str]:
    """Where a compiled payload differs from the imported one; flowdef's identity tags are not a difference."""
    from flowdef.jobsapi.facts import IDENTITY_TAGS as identity

    a = json.loads(json.dumps(before))
    b = json.loads(json.dumps(after))
    for doc in (a, b):
        tags = {k: v for k, v in (doc.get("tags") or {}).items() if k not in identity}
        doc.pop("tags", None)
        if tags:
            doc["tags"] = tags
    out: list[str] = []
    _diff(a, b, "", out)
    return out


def _diff(a, b, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            _diff(a.get(k), b.get(k), f"{path}.{k}" if path else k, out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            key = x.get("task_key") if isinstance(x, dict) and "task_key" in x else i
            _diff(x, y, f"{path}[{key}]", out)
    elif a != b:
        out.append(f"{path} ({json.dumps(a)[:60]} -> {json.dumps(b)[:60]})")
