"""``flowdef bind JOB JOB_ID``: adopt an existing, unmanaged workspace job as one of this project's jobs.

The job is reset with the compiled payload (identity tags included), so from then on plan/apply treat it as ours.
Refuses when the job already belongs to another flowdef project/target/job, or when this job key is already
deployed as another job.  Shows the diff and asks on a terminal unless ``--yes``.
"""

from __future__ import annotations

import argparse
import sys

from flowdef.cli._args import add_lock_timeout, add_retry_timeout, add_target

HELP = "adopt an existing workspace job as one of this project's jobs"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", help="job key in this project")
    p.add_argument("job_id", type=int, help="id of the existing workspace job")
    add_target(p)
    p.add_argument("--yes", "-y", action="store_true")
    add_lock_timeout(p)
    add_retry_timeout(p)


def run(args) -> int:
    from flowdef.deploy.session import terminate_as_interrupt

    with terminate_as_interrupt():
        return _bind(args)


def _bind(args) -> int:
    from flowdef.cli._common import UsageError, find_job, project
    from flowdef.deploy.session import confirm, connect, fail, prepare

    opened = project(args)
    desired = prepare(opened, args.command)
    config, target, proj = opened.config, opened.target, opened.loaded
    try:
        job = find_job(proj, args.job)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from flowdef.deploy.engine import Deployer
    from flowdef.jobsapi.facts import IDENTITY_TAGS
    from flowdef.deploy.plan import RemoteJob, render_text

    mine = [d for d in desired if d.key == job.key]
    try:
        ws = connect(target, args)
        # only this job: every other job of the project is neither compared nor "no longer in the code"
        dep = Deployer(ws, project=config.project, target=target.name, root=target.root_path, desired=mine,
                       complete=False)
        existing = ws.get_job(args.job_id)
        if existing is None:
            print(f"error: job {args.job_id} does not exist in {ws.host}", file=sys.stderr)
            return 1
        tags = (existing.get("settings") or {}).get("tags") or {}
        owner = tuple(tags.get(name) for name in IDENTITY_TAGS)
        # a job of this project and target whose flowdef_job names no job of the code: its tag was edited by
        # hand (plan says so and points here) - binding puts the right tag back
        edited = owner[:2] == (config.project, target.name) and owner[2] not in {d.key for d in desired}
        if owner[0] and owner != (config.project, target.name, job.key) and not edited:
            print(f"error: job {args.job_id} is managed by flowdef project {owner[0]!r}, target {owner[1]!r}, "
                  f"job {owner[2]!r}; refusing to take it over", file=sys.stderr)
            return 1
        state = dep.read_state()
        others = [r.job_id for r in state.managed.get(job.key, []) if r.job_id != args.job_id]
        if others:
            print(f"error: {job.key} is already deployed as job {others[0]}; `flowdef destroy` it (or delete "
                  f"that job) before binding job {args.job_id}", file=sys.stderr)
            return 1
        remote = RemoteJob(args.job_id, existing.get("settings") or {})
        state.managed[job.key] = [remote]
        plan = dep.plan(state)
        print(render_text(plan, verbose_unchanged=True))
        ok = confirm(f"Replace the settings of job {args.job_id} with {job.key}?", args.yes,
                     "refusing to bind without confirmation and without a terminal to ask on: rerun with --yes")
        if ok is None:
            return 1
        if not ok:
            print("bind cancelled; nothing was changed", file=sys.stderr)
            return 1
        with dep.lock("bind", timeout=args.lock_timeout) as lock:
            state = dep.read_state()
            state.managed[job.key] = [remote]
            plan = dep.plan(state)
            outcomes = dep.apply(plan, state, lock=lock)
    except Exception as exc:  # noqa: BLE001
        return fail(exc)
    failed = [o for o in outcomes if o.action == "failed"]
    if failed:
        print(f"bind failed: {failed[0].error}", file=sys.stderr)
        return 1
    print(f"Bound job {args.job_id} to {job.key}: it is now managed by flowdef (target {target.name}).")
    return 0
