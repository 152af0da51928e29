"""``flowdef destroy``: delete every job this project deployed to a target (found by identity tags), and the
files it uploaded (those listed in the manifest).  Asks on a terminal unless ``--yes``; refuses without either."""

from __future__ import annotations

import argparse
import json
import sys

from flowdef.cli._args import add_break_lock, add_format, add_lock_timeout, add_retry_timeout, add_target

HELP = "delete the jobs this project deployed to a target"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_target(p)
    add_format(p, "text", "json")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask")
    add_break_lock(p)
    add_lock_timeout(p)
    add_retry_timeout(p)


def run(args) -> int:
    from flowdef.cli._common import project
    from flowdef.deploy.session import terminate_as_interrupt

    opened = project(args)  # config and target only: destroy needs no valid pipelines
    with terminate_as_interrupt():
        return _destroy(args, opened)


def _destroy(args, opened) -> int:
    from flowdef.deploy.client import describe
    from flowdef.deploy.engine import Deployer, Progress
    from flowdef.deploy.manifest import Manifest, manifest_path
    from flowdef.deploy.mask import mask_text
    from flowdef.deploy.session import break_lock_if_asked, confirm, connect, fail

    config, target = opened.config, opened.target
    try:
        ws = connect(target, args)
        dep = Deployer(ws, project=config.project, target=target.name, root=target.root_path)
        break_lock_if_asked(ws, target.root_path, args)
        state = dep.read_state(full_for=(), artifacts=False)
        jobs = sorted((r for rs in state.managed.values() for r in rs), key=lambda r: r.job_id)
        if not jobs and not state.manifest.files and not state.manifest.found:
            if args.format == "json":
                print(json.dumps({"target": target.name, "deleted": [], "failed": []}))
            else:
                print(f"Nothing to destroy: no job of project {config.project} on target {target.name}.")
            return 0
        listing = sys.stderr if args.format == "json" else sys.stdout
        for r in jobs:
            print(f"  - delete {r.key} (job {r.job_id})  {json.dumps(mask_text(r.name), ensure_ascii=False)}",
                  file=listing)
        if state.manifest.files:
            print(f"  - delete {len(state.manifest.files)} uploaded file(s) under {target.root_path}, and the "
                  f"folders they leave empty", file=listing)
        ok = confirm(f"Destroy {len(jobs)} job(s) of target {target.name}?", args.yes,
                     "refusing to destroy without confirmation and without a terminal to ask on: rerun with --yes")
        if ok is None:
            return 1
        if not ok:
            print("destroy cancelled; nothing was changed", file=sys.stderr)
            return 1
        failed: list[str] = []
        deleted: list = []
        with dep.lock("destroy", timeout=args.lock_timeout) as lock:
            state = dep.read_state(full_for=(), artifacts=False)
            jobs = sorted((r for rs in state.managed.values() for r in rs), key=lambda r: r.job_id)
            progress = Progress(len(jobs) + len(state.manifest.files))

            def delete_job(r):
                try:
                    lock.check()
                    ws.delete_job(r.job_id)
                except Exception as exc:  # noqa: BLE001
                    failed.append(f"{r.key} (job {r.job_id}): {describe(exc)}")
                    progress.step(f"delete failed  {r.key} (job {r.job_id}): {describe(exc)}")
                    return
                deleted.append(r)
                progress.step(f"deleted        {r.key} (job {r.job_id})")

            def delete_file(path):
                try:
                    ws.delete(path)
                except Exception as exc:  # noqa: BLE001
                    failed.append(f"{path}: {describe(exc)}")
                    return
                progress.step(f"deleted        {path}")

            dep._map(delete_job, jobs)
            dep._map(delete_file, sorted(state.manifest.files))
            if failed:  # keep the manifest (deletes are idempotent) so a rerun finishes the job and its folders
                left = Manifest(files=dict(state.manifest.files))
                ws.write(manifest_path(target.root_path), left.to_json())
            else:
                ws.delete(manifest_path(target.root_path))
                lock.release()  # before the folder cleanup: the lock file lives in <root>/.flowdef
                _remove_empty_folders(ws, dep, target.root_path, state.manifest.files)
    except Exception as exc:  # noqa: BLE001
        return fail(exc)
    if args.format == "json":
        print(json.dumps({"target": target.name, "deleted": [{"key": r.key, "job_id": r.job_id}
                                                                  for r in sorted(deleted, key=lambda r: r.job_id)],
                          "failed": failed}, indent=2, sort_keys=True))
        return 1 if failed else 0
    if failed:
        print("Destroy failed for:\n" + "\n".join(f"  {f}" for f in failed)
              + "\nRerun `flowdef destroy` to finish (what was deleted stays deleted).")
        return 1
    print(f"Destroy complete: {len(jobs)} job(s) deleted.")
    return 0


def _remove_empty_folders(ws, dep, root: str, files) -> None:
    """The folders our uploads created, deepest first, each deleted only if empty (a non-recursive delete fails
    on a folder that still holds something - someone else's files stay, and so does their folder).  The root
    itself goes too when nothing else is in it."""
    from flowdef.deploy.client import _plain_path

    root = _plain_path(root.rstrip("/"))
    folders = {f"{root}/.flowdef", root}
    for path in files:
        folder = _plain_path(path).rsplit("/", 1)[0]
        while folder.startswith(root + "/"):
            folders.add(folder)
            folder = folder.rsplit("/", 1)[0]
    by_depth: dict[int, list[str]] = {}
    for f in folders:
        by_depth.setdefault(f.count("/"), []).append(f)

    def remove(folder: str) -> None:
        try:
            ws.call("POST", "/api/2.0/workspace/delete", body={"path": folder, "recursive": False})
        except Exception:  # noqa: BLE001 - not empty (someone else's files) or already gone: leave it
            pass

    for depth in sorted(by_depth, reverse=True):
        dep._map(remove, sorted(by_depth[depth]))
