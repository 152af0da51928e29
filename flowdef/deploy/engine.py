"""Read the workspace, plan, and apply: the deploy engine behind ``plan`` / ``apply`` / ``destroy`` / ``bind``.

No state file.  A job belongs to this project and target when it carries the identity tags the compiler writes
(``flowdef_project``, ``flowdef_target``, ``flowdef_job``); one paginated ``jobs/list`` (settings carry tags)
finds them all, then ``jobs/get`` in parallel fetches the full settings of those we compare.  See
docs/adr/0003-deploy-without-state.md for the reasoning.

Order of an apply: plan without a lock (read-only); stop if nothing changes (a no-op apply writes nothing); else
take the deploy lock, plan again under it (the authoritative plan), upload changed artifacts, create / reset
jobs (referenced jobs first), apply permissions, delete (``--prune``), write the manifest, release the lock.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from flowdef.compile.compiler import Artifact
from flowdef.deploy import refs
from flowdef.deploy.client import Workspace, describe, is_not_found
from flowdef.deploy.lock import DeployLock
from flowdef.deploy.manifest import (
    Manifest,
    artifact_drift,
    digest,
    manifest_path,
    permissions_digest,
    plain_path,
    stat_of,
)
from flowdef.deploy.plan import (
    CONFLICT,
    CREATE,
    UNCHANGED,
    UPDATE,
    JobPlan,
    Plan,
    RemoteJob,
    build_plan,
    is_managed,
)
from flowdef.deploy.pool import Pool
from flowdef.deploy.state import Desired, Outcome, Progress, State, read_manifest  # the commands find them here
from flowdef.errors import WorkspaceError
from flowdef.jobsapi.facts import IDENTITY_TAGS, JOB_TAG

READ_CONCURRENCY = 16
DEFAULT_CONCURRENCY = 32  # jobs written at once: 50 jobs in 2 waves (the SDK-free retry loop handles 429s)
_LANGUAGES = {".py": "PYTHON", ".sql": "SQL", ".scala": "SCALA", ".r": "R"}


class Deployer:
    def __init__(self, ws: Workspace, *, project: str, target: str, root: str, desired: Iterable[Desired] = (),
                 concurrency: int = DEFAULT_CONCURRENCY, stream=None, quiet: bool = False, complete: bool = True,
                 force_upload: bool = False) -> None:
        """``complete``: ``desired`` is the whole project (False when only some pipeline files were loaded: then
        nothing is "no longer in the code", so nothing is deleted or pruned)."""
        self.ws = ws
        self.complete = complete
        self.force_upload = force_upload
        self.project = project
        self.target = target
        self.root = root
        self.desired = {d.key: d for d in desired}
        self.concurrency = max(1, int(concurrency))
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self._pipelines: dict[str, list[str]] = {}
        self._cache_lock = threading.Lock()
        self._artifacts: dict[str, tuple[Artifact, str]] | None = None
        self._listings: dict[str, dict[str, dict] | None] = {}
        self._uncertain: dict[str, tuple[int, str]] = {}
        self._lock_guard: DeployLock | None = None
        self._pool = Pool(max(self.concurrency, READ_CONCURRENCY))
        self._made: set[str] = set()  # folders this apply created

    # ------------------------------------------------------------------------------------------- reading

    def _map(self, fn: Callable, items: list, workers: int | None = None) -> list:
        """``[fn(i) for i in items]``, ``workers`` at once, on the deployer's worker threads (:mod:`.pool`).  An
        interrupt (Ctrl-C, SIGTERM) cancels what has not started yet, so the lock is released promptly."""
        return self._pool.map(fn, items, workers or self.concurrency)

    def _managed(self, settings: dict) -> bool:
        return is_managed(settings, self.project, self.target)

    def artifact_folders(self) -> list[str]:
        return sorted({p.rsplit("/", 1)[0] for p in self.artifacts()})

    def read_manifest(self) -> Manifest:
        return read_manifest(self.ws, self.root)

    def _folder_reader(self, folder: str) -> Callable[[], Any]:
        return lambda: self.ws.list_folder(folder)

    def read_state(self, full_for: Iterable[str] | None = None, *, artifacts: bool = True,
                   prefetched: tuple[Manifest, list[dict]] | None = None) -> State:
        """One wave of parallel reads: the manifest, the ``jobs/list`` pages (``expand_tasks``: a page carries the
        settings of up to 100 jobs, tasks included) and one listing per artifact folder.  Then ``jobs/get`` only
        for a job whose listed arrays were cut at 100 items, and for ids the manifest hints at that the (lagging)
        listing does not show yet."""
        folders = self.artifact_folders() if artifacts else []
        reads: list[Callable[[], Any]] = [] if prefetched else [
            self.read_manifest, lambda: list(self.ws.list_jobs(expand_tasks=True))]
        reads += [self._folder_reader(f) for f in folders]
        results = self._map(lambda fn: fn(), reads, max(self.concurrency, READ_CONCURRENCY))
        if prefetched:  # manifest and listing read while the project was compiled (session.Prefetch)
            results = [*prefetched, *results]
        manifest, listed = results[0], results[1]
        listings = dict(zip(folders, results[2:]))
        light: dict[str, list[tuple[int, dict, bool]]] = {}
        unmanaged: dict[str, list[int]] = {}
        foreign: dict[str, list[tuple[int, dict]]] = {}
        seen: set[int] = set()
        for job in listed:
            job_id = int(job["job_id"])
            seen.add(job_id)
            settings = job.get("settings") or {}
            tags = settings.get("tags") or {}
            if self._managed(settings):
                light.setdefault(tags[JOB_TAG], []).append((job_id, settings, bool(job.get("has_more"))))
            elif any(k in tags for k in IDENTITY_TAGS):
                foreign.setdefault(str(settings.get("name", "")).lower(), []).append((job_id, dict(tags)))
            else:
                unmanaged.setdefault(str(settings.get("name", "")).lower(), []).append(job_id)
        wanted = set(self.desired if full_for is None else full_for)
        # jobs/list is eventually consistent: a job applied a moment ago may be missing.  The manifest remembers the
        # ids we applied; check the missing ones with jobs/get (consistent).  The tags, not the hint, decide.
        hinted = [(k, i) for k, i in manifest.jobs.items() if k not in light and i not in seen]
        cut = {i for k in wanted for i, _, more in light.get(k, []) if more}
        to_get = sorted(cut | {i for _, i in hinted})
        fetched = dict(zip(to_get, self._map(self.ws.get_job, to_get, max(self.concurrency, READ_CONCURRENCY))))
        for key, job_id in hinted:
            hit = fetched.get(job_id)
            if hit is not None and self._managed(hit.get("settings") or {}) and \
                    hit["settings"]["tags"][JOB_TAG] == key:
                light.setdefault(key, []).append((job_id, hit["settings"], False))
        managed: dict[str, list[RemoteJob]] = {}
        for key, jobs in light.items():
            remotes = []
            for job_id, settings, _more in sorted(jobs, key=lambda t: t[0]):
                if job_id in fetched:
                    full = fetched[job_id]
                    if full is None:  # deleted between list and get
                        continue
                    settings = full.get("settings") or {}
                remotes.append(RemoteJob(job_id, settings))
            if remotes and (self.complete or key in self.desired):
                managed[key] = remotes
        return State(manifest, managed, unmanaged, foreign, listings)

    # ------------------------------------------------------------------------------------------- planning

    def artifacts(self) -> dict[str, tuple[Artifact, str]]:
        """Every artifact of every desired job, by workspace path, with its digest.  The same path must always
        carry the same content."""
        if self._artifacts is not None:
            return self._artifacts
        out: dict[str, tuple[Artifact, str]] = {}
        for d in sorted(self.desired.values(), key=lambda d: d.key):
            for a in d.artifacts:
                h = digest(a.data(), a.kind)
                if a.workspace_path in out and out[a.workspace_path][1] != h:
                    raise WorkspaceError(f"two jobs upload different content to {a.workspace_path} (job {d.key})")
                out[a.workspace_path] = (a, h)
        self._artifacts = out
        return out

    def plan(self, state: State) -> Plan:
        self._listings = state.listings
        arts = self.artifacts()
        drift = artifact_drift({p: (a.kind, h) for p, (a, h) in arts.items()}, state.manifest, state.listings,
                               force=self.force_upload)
        desired = {k: d.payload for k, d in self.desired.items()}
        removals = tuple(sorted(set(state.manifest.files) - set(arts))) if self.complete else ()
        plan = build_plan(desired, state.managed, state.unmanaged_names, target=self.target, host=self.ws.host,
                          uploads=tuple(sorted(drift)), removals=removals, foreign=state.foreign,
                          project=self.project, suspects=state.manifest.suspects)
        plan = attrs.evolve(plan, upload_reasons=tuple(sorted(drift.items())))
        perms = []
        for jp in plan.jobs:
            d = self.desired[jp.key]
            if d.permissions is None or jp.action == CONFLICT:
                continue
            if jp.action == CREATE or state.manifest.permissions.get(jp.key) != permissions_digest(d.permissions):
                perms.append(jp.key)
        if perms:
            plan = attrs.evolve(plan, permissions=tuple(perms))
        return self._resolved(plan, state)

    def _references(self, key: str) -> set[str]:
        d = self.desired[key]
        return refs.references(d.payload) if d.placeholders else set()

    def _resolve(self, payload: dict, ids: dict[str, int]) -> dict:
        """``payload`` with its deploy-time placeholders replaced (jobs by id, pipelines by name, workspace id);
        :class:`refs.Unresolved` with a clear message when one cannot be."""
        if not refs.found(payload):
            return payload
        pipelines: dict[str, str] = {}
        for name in sorted(refs.pipeline_names(payload)):
            with self._cache_lock:
                cached = self._pipelines.get(name)
            if cached is None:
                cached = self.ws.pipeline_ids(name)
                with self._cache_lock:
                    self._pipelines[name] = cached
            if len(cached) > 1:
                raise refs.Unresolved(f"{len(cached)} pipelines are named {name!r} ({', '.join(cached)}); "
                                      f"rename them or reference the pipeline by id")
            if cached:
                pipelines[name] = cached[0]
        workspace_id = self.ws.workspace_id() if refs.needs_workspace_id(payload) else None
        return refs.resolve(payload, ids, pipelines, workspace_id)

    def _resolved(self, plan: Plan, state: State) -> Plan:
        """Payloads with placeholders compare *resolved* (a reference to a job still to be created, or to a pipeline
        that does not exist, is reported instead of being compared)."""
        if not any(d.has_placeholders() for d in self.desired.values()):
            return plan
        ids = {k: r[0].job_id for k, r in state.managed.items() if r}
        jobs = []
        for jp in plan.jobs:
            payload = self.desired[jp.key].payload
            if jp.action in (UPDATE, UNCHANGED) and self.desired[jp.key].has_placeholders():
                try:
                    resolved = self._resolve(payload, ids)
                except refs.Unresolved as exc:
                    jp = attrs.evolve(jp, action=UPDATE, reason=f"resolved at apply time: {exc}")
                else:
                    single = build_plan({jp.key: resolved}, {jp.key: state.managed[jp.key]}, {}, target=self.target)
                    jp = attrs.evolve(single.jobs[0], reason=jp.reason)
            jobs.append(jp)
        return attrs.evolve(plan, jobs=tuple(jobs))

    # ------------------------------------------------------------------------------------------- applying

    def apply(self, plan: Plan, state: State, *, prune: bool = False,
              confirmed_deletes: set[int] | None = None, lock: DeployLock | None = None) -> list[Outcome]:
        """Carry out ``plan`` (made under the lock).  Never raises for one job's failure: every other job is still
        applied, and the outcome list names what failed and why.  The manifest is written on the way out whatever
        happened (a new ``generation``: the mark by which the next apply sees that this one ran)."""
        arts = self.artifacts()
        manifest = state.manifest.copy()
        manifest.generation = uuid.uuid4().hex
        deletes = [d for d in plan.deletes
                   if d.auto or (prune and (confirmed_deletes is None or d.job_id in confirmed_deletes))]
        total = (1 if plan.uploads else 0) + len(plan.jobs) + len(deletes)
        progress = Progress(total, self.stream, self.quiet)
        outcomes: list[Outcome] = []
        self._uncertain = {}
        self._lock_guard = lock
        try:
            failed_paths, record_stats = self._upload(plan.uploads, arts, manifest, progress,
                                                      dict(plan.upload_reasons))
            ids = {k: r[0].job_id for k, r in state.managed.items() if r}
            by_key = {jp.key: jp for jp in plan.jobs}
            done: dict[str, Outcome] = {}
            for wave in refs.waves({k: self._references(k) for k in by_key}):
                steps: list[Callable[[], Any]] = [
                    functools.partial(self._apply_job, by_key[k], ids, failed_paths, manifest, done, plan, progress)
                    for k in wave]
                steps += record_stats  # the uploads' listings go out with the first writes, not before them
                record_stats = []
                results = [o for o in self._map(lambda step: step(), steps) if isinstance(o, Outcome)]
                for o in results:
                    done[o.key] = o
                    if o.job_id is not None:
                        ids[o.key] = o.job_id
                outcomes.extend(results)
            self._map(lambda step: step(), record_stats)  # (no job to write)
            outcomes.extend(self._map(lambda d: self._delete(d, manifest, progress), deletes))
            if prune and plan.removals:
                gone = [p for p, err in zip(plan.removals, self._map(self._try(self.ws.delete), list(plan.removals)))
                        if not err]
                for path in gone:
                    manifest.files.pop(path, None)
                    manifest.stats.pop(path, None)
                progress.note(f"removed {len(gone)} artifact(s) no job uses any more"
                              + (f"; {len(plan.removals) - len(gone)} could not be removed" if len(gone) < len(
                                  plan.removals) else ""))
            if self._uncertain:
                self._sweep(manifest, outcomes, progress)
            # a suspect whose id the listing shows has had its duplicates handled by this plan: forget it
            for key, job_id in list(manifest.suspects.items()):
                if any(r.job_id == job_id for r in state.managed.get(key, [])) and key not in self._uncertain:
                    del manifest.suspects[key]
        finally:
            try:
                self._finish(manifest, progress, lock)
            finally:
                self._pool.close()
        return outcomes

    def _finish(self, manifest: Manifest, progress: Progress, lock: DeployLock | None) -> None:
        """Write the manifest - and, in the same wave, check that the lock is still ours (so releasing it is one
        delete)."""
        def write() -> str:
            try:
                self.ws.write(manifest_path(self.root), manifest.to_json())
            except Exception as err:  # noqa: BLE001 - the jobs are applied; only the cache is stale
                return describe(err)
            return ""

        if lock is not None and lock.lost:
            # someone else holds the lock now: their manifest is theirs to write
            progress.note("warning: the manifest was not written (the deploy lock was taken over); the next "
                          "apply re-reads everything")
            return
        steps: list[Callable[[], Any]] = [write] + ([lock.confirm] if lock is not None else [])
        results = self._map(lambda fn: fn(), steps)
        if results[0]:
            progress.note(f"warning: could not write the manifest ({results[0]}); the next apply re-uploads "
                          f"the artifacts and re-reads everything under the lock")

    def _sweep(self, manifest: Manifest, outcomes: list[Outcome], progress: Progress) -> None:
        """After creates whose answers were uncertain: wait until ``jobs/list`` shows the job we kept (the listing
        has then caught up with every earlier attempt), and delete any other job with the same identity tags -
        a committed attempt we could not see before.  Bounded by ``FLOWDEF_RECONCILE_WAIT`` seconds; what is not
        confirmed by then is remembered in the manifest and checked by the next apply."""
        pending = dict(self._uncertain)
        deadline = time.monotonic() + self.ws.reconcile_wait
        pause = 0.2
        progress.note(f"checking {len(pending)} job(s) whose create answer was uncertain for duplicates "
                      f"(up to {self.ws.reconcile_wait:g}s: jobs/list lags behind creates)")
        while True:
            def look(item: tuple[str, tuple[int, str]]) -> tuple[str, list[int] | None]:
                key, (_, name) = item
                try:
                    return key, [int(j["job_id"]) for j in self.ws.list_jobs(name=name)
                                 if self._managed(j.get("settings") or {})
                                 and j["settings"]["tags"][JOB_TAG] == key]
                except Exception:  # noqa: BLE001 - try again at the next round
                    return key, None

            for key, found in self._map(look, sorted(pending.items())):
                kept = pending[key][0]
                if found is None or kept not in found:
                    continue  # the listing has not caught up with our own create yet
                for extra in sorted(i for i in found if i != kept):
                    try:
                        self.ws.delete_job(extra)
                    except Exception as err:  # noqa: BLE001
                        progress.note(f"error: {key}: could not delete duplicate job {extra} ({describe(err)}); "
                                      f"`apply --prune` deletes it")
                        continue
                    progress.note(f"deleted duplicate job {extra} of {key} (job {kept}): an earlier create "
                                  f"attempt had been saved although its answer was an error")
                    outcomes.append(Outcome(key, "deleted", extra, note="duplicate"))
                del pending[key]
                manifest.suspects.pop(key, None)
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
        for key in sorted(pending):
            manifest.suspects[key] = pending[key][0]
            progress.note(f"warning: {key}: jobs/list did not show job {pending[key][0]} within "
                          f"{self.ws.reconcile_wait:g}s, so a duplicate cannot be ruled out yet; the next apply "
                          f"checks again and deletes one if it appears")

    def _upload(self, paths: Iterable[str], arts: dict[str, tuple[Artifact, str]], manifest: Manifest,
                progress: Progress, reasons: dict[str, str] | None = None,
                listings: dict[str, dict[str, dict] | None] | None = None
                ) -> tuple[dict[str, str], list[Callable[[], None]]]:
        """Upload ``paths``; returns the failed ones (path -> error) and the steps that record what the workspace
        now says about the uploaded files (one listing per folder), for the caller to run alongside its next
        requests: nothing waits for them but the manifest."""
        paths = list(paths)
        if not paths:
            return {}, []
        leaves = self._missing_folders(paths, manifest, listings)
        failed: dict[str, str] = {}
        for folder, err in zip(leaves, self._map(self._try(self.ws.mkdirs), leaves)):
            if err:
                for p in paths:
                    if p.startswith(folder + "/"):
                        failed[p] = err
            else:
                self._made.add(folder)

        def one(path: str) -> tuple[str, str]:
            if path in failed:
                return path, failed[path]
            artifact = arts[path][0]
            try:
                data = artifact.data()
                if artifact.kind == "notebook":
                    suffix = (artifact.source.suffix.lower() if artifact.source is not None else ".py")
                    self.ws.write_notebook(path, data, _LANGUAGES.get(suffix, "PYTHON"))
                else:
                    self.ws.write(path, data)
            except Exception as err:  # noqa: BLE001 - reported per artifact
                return path, describe(err)
            return path, ""

        for path, err in self._map(one, paths):
            if err:
                failed[path] = err
                manifest.files.pop(path, None)
                manifest.stats.pop(path, None)
                progress.note(f"upload failed: {path}: {err}")
            else:
                manifest.files[path] = arts[path][1]
        ok = len(paths) - len(failed)
        why: dict[str, int] = {}
        for p in paths:
            if p not in failed:
                r = (reasons or {}).get(p, "changed")
                why[r] = why.get(r, 0) + 1
        detail = " (" + ", ".join(f"{n} {r}" for r, n in sorted(why.items())) + ")" if why else ""
        progress.step(f"uploaded       {ok} artifact(s){detail}" + (f", {len(failed)} FAILED" if failed else ""))

        def record(folder: str) -> None:
            # what the workspace says about the files now (size, modified_at): a later listing that differs means
            # someone edited or deleted them there
            objs = self._list_quietly(folder)
            for path in paths:
                if path.rsplit("/", 1)[0] == folder and path not in failed:
                    info = (objs or {}).get(plain_path(path))
                    with self._cache_lock:  # the job writers update the manifest at the same time
                        if info is None:
                            manifest.stats.pop(path, None)
                        else:
                            manifest.stats[path] = stat_of(info)

        done = sorted({p.rsplit("/", 1)[0] for p in paths if p not in failed})
        return failed, [functools.partial(record, f) for f in done]

    def _missing_folders(self, paths: Iterable[str], manifest: Manifest,
                         listings: dict[str, dict[str, dict] | None] | None = None) -> list[str]:
        """The folders to create (``mkdirs`` makes parents, so only the deepest) before uploading ``paths``: each
        folder of theirs that this plan's listing did not show and that (not listed) holds no file the manifest
        says we uploaded, and that this apply has not created already."""
        listings = self._listings if listings is None else listings
        known = {f for f, objs in listings.items() if objs is not None} | {
            p.rsplit("/", 1)[0] for p in manifest.files if p.rsplit("/", 1)[0] not in listings}
        wanted = {p.rsplit("/", 1)[0] for p in paths}
        made = {f for f in wanted if any(m == f or m.startswith(f + "/") for m in self._made)}  # mkdirs makes parents
        folders = sorted(wanted - known - made)
        return [f for f in folders if not any(o.startswith(f + "/") for o in folders)]

    def _list_quietly(self, folder: str) -> dict[str, dict] | None:
        try:
            return self.ws.list_folder(folder)
        except Exception:  # noqa: BLE001 - without stats only the edit detection of these files is lost
            return None

    @staticmethod
    def _try(fn: Callable) -> Callable[[Any], str]:
        def run(arg: Any) -> str:
            try:
                fn(arg)
            except Exception as err:  # noqa: BLE001
                return describe(err)
            return ""
        return run

    def _find_by_tags(self, key: str, name: str) -> int | None:
        """After a create whose answer was lost: the job with our identity tags, if the create went through."""
        for job in self.ws.list_jobs(name=name):
            settings = job.get("settings") or {}
            if self._managed(settings) and settings["tags"][JOB_TAG] == key:
                return int(job["job_id"])
        return None

    def _create(self, jp: JobPlan, payload: dict, acl: list | None = None) -> tuple[int, bool]:
        """Create the job - with its permissions in the same request (``access_control_list``: on a new job the
        same grants as the ``PUT`` after it, one round trip less).  Returns ``(job id, permissions set)``."""
        body = payload if acl is None else {**payload, "access_control_list": acl}
        job_id, adopted, uncertain = self.ws.create_job(body, lambda: self._find_by_tags(jp.key, jp.name))
        if adopted:
            # an earlier attempt went through: make sure the job we found holds exactly this payload (reset carries
            # no permissions, so the caller sets them)
            self.ws.reset_job(job_id, payload)
        if uncertain:
            with self._cache_lock:
                self._uncertain[jp.key] = (job_id, jp.name)
        return job_id, acl is not None and not adopted

    def _apply_job(self, jp: JobPlan, ids: dict[str, int], failed_paths: dict[str, str], manifest: Manifest,
                   done: dict[str, Outcome], plan: Plan, progress: Progress) -> Outcome:
        d = self.desired[jp.key]
        label = f"{jp.key}" + (f" (job {jp.job_id})" if jp.job_id else "")
        if jp.action == CONFLICT:
            progress.step(f"refused        {jp.key}: {jp.reason}")
            return Outcome(jp.key, "failed", None, jp.reason)
        bad = sorted(a.workspace_path for a in d.artifacts if a.workspace_path in failed_paths)
        if bad:
            err = f"artifact upload failed: {bad[0]}: {failed_paths[bad[0]]}"
            progress.step(f"failed         {label}: {err}")
            return Outcome(jp.key, "failed", jp.job_id, err)
        deps = self._references(d.key)
        broken = sorted(k for k in deps if k in done and done[k].action == "failed")
        if broken:
            err = f"depends on job {broken[0]}, which failed"
            progress.step(f"failed         {label}: {err}")
            return Outcome(jp.key, "failed", jp.job_id, err)
        try:
            if self._lock_guard is not None:
                self._lock_guard.check()  # the renewer found our lock taken: write nothing more
            payload = self._resolve(d.payload, ids) if d.placeholders else d.payload
            action, job_id = "unchanged", jp.job_id
            acl = d.permissions if jp.key in plan.permissions and d.permissions is not None else None
            acl_set = False
            with self.ws.label(jp.key):
                if jp.action == CREATE:
                    (job_id, acl_set), action = self._create(jp, payload, acl), "created"
                elif jp.action == UPDATE:
                    try:
                        self.ws.reset_job(int(jp.job_id or 0), payload)  # full replace; never jobs/update (merges)
                        action = "updated"
                    except Exception as err:
                        if not is_not_found(err):
                            raise
                        # deleted by someone since the plan: create it again (looked up by tags if uncertain)
                        (job_id, acl_set), action = self._create(jp, payload, acl), "created"
            if acl is not None:
                if not acl_set:
                    self.ws.set_permissions(int(job_id or 0), acl)
                manifest.permissions[jp.key] = permissions_digest(acl)
                if action == "unchanged":
                    action = "updated"
        except Exception as err:  # noqa: BLE001 - one job's failure never stops the others
            msg = describe(err)
            progress.step(f"failed         {label}: {msg}")
            return Outcome(jp.key, "failed", jp.job_id, msg)
        manifest.jobs[jp.key] = int(job_id or 0)
        if action != "unchanged":
            progress.step(f"{action:<14} {jp.key} (job {job_id})")
        else:
            progress.step(f"unchanged      {jp.key} (job {job_id})")
        return Outcome(jp.key, action, job_id)

    def _delete(self, d: JobPlan, manifest: Manifest, progress: Progress) -> Outcome:
        what = "duplicate" if d.kind == "duplicate" else ""
        try:
            if self._lock_guard is not None:
                self._lock_guard.check()
            with self.ws.label(d.key):
                self.ws.delete_job(int(d.job_id or 0))
        except Exception as err:  # noqa: BLE001
            msg = describe(err)
            progress.step(f"delete failed  {d.key} (job {d.job_id}): {msg}")
            return Outcome(d.key, "failed", d.job_id, msg)
        if manifest.jobs.get(d.key) == d.job_id:
            del manifest.jobs[d.key]
            manifest.permissions.pop(d.key, None)
        progress.step(f"deleted        {d.key} (job {d.job_id})" + (" - a duplicate" if what else ""))
        return Outcome(d.key, "deleted", d.job_id, note=what)

    def lock(self, command: str, timeout: float = 0.0, *, folder_known: bool = True,
             plan: Plan | None = None, state: State | None = None) -> DeployLock:
        """The deploy lock, its folder made first when ``folder_known`` is False - in the same round trip as the
        folders ``plan``'s uploads need (``mkdirs`` is idempotent and creates nothing a later apply would not, so
        it need not wait for the lock; the uploads themselves do)."""
        self._pool.warm()  # the writers' threads start while the lock's round trips are under way
        lock = DeployLock(self.ws, self.root, command=command, timeout=timeout, folder_known=True,
                          stream=self.stream)
        folders = self._missing_folders(plan.uploads, state.manifest) if plan and state and plan.uploads else []
        if not folder_known or folders:
            own = lock.path.rsplit("/", 1)[0]
            steps = ([own] if not folder_known else []) + folders
            errors = self._map(self._try(self.ws.mkdirs), steps)
            for folder, err in zip(steps, errors):
                if err and folder == own:
                    raise WorkspaceError(f"cannot create {own}: {err}")
                if not err:
                    self._made.add(folder)
        return lock

    def confirm_plan(self, state: State, plan: Plan, lock: DeployLock, broke: bool = False) -> tuple[State, Plan]:
        """Under the lock: the plan made before it still holds when no other apply ran in between - shown by the
        manifest's generation (every apply that held the lock rewrites it on the way out).  One small read;
        everything is re-read only when the generation moved, the lock was contended or was broken."""
        if not (broke or lock.contended):
            now = self.read_manifest()
            if now.found == state.manifest.found and now.generation == state.manifest.generation:
                return state, plan
        state = self.read_state()
        return state, self.plan(state)
