"""``flowdef destroy``: delete every job this project deployed to a target (found by identity tags), and the
files it uploaded (those listed in the manifest).  Asks on a terminal unless ``--yes``; refuses without either."""

from __future__ import annotations

import argparse
import json
import sys

from flowdef.cli._args import add_break_lock, add_format, add_lock_timeout, add_target

HELP = "delete the jobs this project deployed to a target"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_target(p)
    add_format(p, "text", "json")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask")
    add_break_lock(p)
    add_lock_timeout(p)


def run(args) -> int:
    from flowdef.cli._common import project
    from flowdef.deploy.session import confirm, connect, fail

    opened = project(args)  # config and target only: destroy needs no valid pipelines
    config, target = opened.config, opened.target
    from flowdef.deploy.engine import Deployer, Progress
    from flowdef.deploy.lock import break_lock
    from flowdef.deploy.manifest import Manifest, manifest_path

    try:
        ws = connect(target)
        dep = Deployer(ws, project=config.project, target=target.name, root=target.root_path)
        if args.break_lock:
            held = break_lock(ws, target.root_path)
            print(f"removed the deploy lock held by {held.describe()}" if held else "no deploy lock to remove",
                  file=sys.stderr)
        state = dep.read_state(full_for=())
        jobs = sorted((r for rs in state.managed.values() for r in rs), key=lambda r: r.job_id)
        if not jobs and not state.manifest.files:
            if args.format == "json":
                print(json.dumps({"target": target.name, "deleted": [], "failed": []}))
            else:
                print(f"Nothing to destroy: no job of project {config.project} on target {target.name}.")
            return 0
        listing = sys.stderr if args.format == "json" else sys.stdout
        for r in jobs:
            print(f"  - delete {r.key} (job {r.job_id})  {json.dumps(r.name, ensure_ascii=False)}", file=listing)
        if state.manifest.files:
            print(f"  - delete {len(state.manifest.files)} uploaded file(s) under {target.root_path}", file=listing)
        ok = confirm(f"Destroy {len(jobs)} job(s) of target {target.name}?", args.yes,
                     "refusing to destroy without confirmation and without a terminal to ask on: rerun with --yes")
        if ok is None:
            return 1
        if not ok:
            print("destroy cancelled; nothing was changed", file=sys.stderr)
            return 1
        failed: list[str] = []
        deleted: list = []
        with dep.lock("destroy", timeout=args.lock_timeout):
            state = dep.read_state(full_for=())
            jobs = sorted((r for rs in state.managed.values() for r in rs), key=lambda r: r.job_id)
            progress = Progress(len(jobs) + len(state.manifest.files))

            def delete_job(r):
                try:
                    ws.delete_job(r.job_id)
                except Exception as exc:  # noqa: BLE001
                    failed.append(f"{r.key} (job {r.job_id}): {exc}")
                    progress.step(f"delete failed  {r.key} (job {r.job_id})")
                    return
                deleted.append(r)
                progress.step(f"deleted        {r.key} (job {r.job_id})")

            def delete_file(path):
                try:
                    ws.delete(path)
                except Exception as exc:  # noqa: BLE001
                    failed.append(f"{path}: {exc}")
                    return
                progress.step(f"deleted        {path}")

            dep._map(delete_job, jobs)
            dep._map(delete_file, sorted(state.manifest.files))
            if failed:  # keep a manifest of what is left so a rerun finishes the job
                left = Manifest(files={p: h for p, h in state.manifest.files.items()
                                       if any(f.startswith(p + ":") for f in failed)})
                ws.write(manifest_path(target.root_path), left.to_json())
            else:
                ws.delete(manifest_path(target.root_path))
    except Exception as exc:  # noqa: BLE001
        return fail(exc)
    if args.format == "json":
        print(json.dumps({"target": target.name, "deleted": [{"key": r.key, "job_id": r.job_id}
                                                                  for r in sorted(deleted, key=lambda r: r.job_id)],
                          "failed": failed}, indent=2, sort_keys=True))
        return 1 if failed else 0
    if failed:
        print("Destroy failed for:\n" + "\n".join(f"  {f}" for f in failed))
        return 1
    print(f"Destroy complete: {len(jobs)} job(s) deleted.")
    return 0
