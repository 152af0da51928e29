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

import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from flowdef.compile.compiler import Artifact, CompiledJob
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
from flowdef.deploy.mask import mask_message
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
from flowdef.errors import WorkspaceError
from flowdef.jobsapi.facts import IDENTITY_TAGS, JOB_TAG

READ_CONCURRENCY = 16
DEFAULT_CONCURRENCY = 32  # jobs written at once: 50 jobs in 2 waves (the SDK-free retry loop handles 429s)
_LANGUAGES = {".py": "PYTHON", ".sql": "SQL", ".scala": "SCALA", ".r": "R"}


def read_manifest(ws: Workspace, root: str) -> Manifest:
    data = ws.read(manifest_path(root))
    manifest = Manifest.parse(data)
    manifest.found = data is not None
    return manifest


def first_reads(ws: Workspace, root: str) -> tuple[Manifest, list[dict]]:
    """The manifest and every ``jobs/list`` page (``expand_tasks``), in parallel: what a plan reads first."""
    from concurrent.futures import ThreadPoolExecutor as Pool

    with Pool(max_workers=2) as pool:
        listed = pool.submit(lambda: list(ws.list_jobs(expand_tasks=True)))
        manifest = read_manifest(ws, root)
        return manifest, listed.result()


@attrs.frozen
class Desired:
    """One job as the code wants it: compiled payload, artifacts and declared permissions (None: not managed)."""

    key: str
    payload: dict
    artifacts: tuple[Artifact, ...] = ()
    permissions: list | None = None

    @classmethod
    def of(cls, compiled: CompiledJob, permissions: list | None = None) -> Desired:
        # the body with its deploy-time placeholders in place: refs.resolve fills them in (ADR 0004)
        return cls(compiled.key, compiled.deploy_payload, compiled.artifacts, permissions)


@attrs.define
class State:
    """What was read from the workspace."""

    manifest: Manifest
    managed: dict[str, list[RemoteJob]]  # key -> jobs with our tags (full settings for desired keys), oldest first
    unmanaged_names: dict[str, list[int]]
    foreign: dict[str, list[tuple[int, dict]]] = attrs.field(factory=dict)  # name -> other flowdef jobs' tags
    listings: dict[str, dict[str, dict] | None] = attrs.field(factory=dict)  # artifact folder -> its objects


@attrs.define
class Outcome:
    key: str
    action: str  # created / updated / unchanged / deleted / failed / adopted
    job_id: int | None = None
    error: str = ""
    note: str = ""  # "duplicate": a deleted duplicate


class Progress:
    """One line per finished step on stderr; plain text, safe when stderr is not a terminal."""

    def __init__(self, total: int, stream=None, quiet: bool = False) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self._lock = threading.Lock()

    def step(self, text: str) -> None:
        text = mask_message(text)  # failures quote the service, which may echo a secret that was sent
        with self._lock:
            self.done += 1
            if not self.quiet:
                width = len(str(self.total))
                print(f"[{self.done:>{width}}/{self.total}] {text}", file=self.stream, flush=True)

    def note(self, text: str) -> None:
        text = mask_message(text)
        if not self.quiet:
            with self._lock:
                print(text, file=self.stream, flush=True)


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
        if not any(refs.found(d.payload) for d in self.desired.values()):
            return plan
        ids = {k: r[0].job_id for k, r in state.managed.items() if r}
        jobs = []
        for jp in plan.jobs:
            payload = self.desired[jp.key].payload
            if jp.action in (UPDATE, UNCHANGED) and refs.found(payload):
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
            failed_paths = self._upload(plan.uploads, arts, manifest, progress, dict(plan.upload_reasons))
            ids = {k: r[0].job_id for k, r in state.managed.items() if r}
            by_key = {jp.key: jp for jp in plan.jobs}
            done: dict[str, Outcome] = {}
            for wave in refs.waves({k: refs.references(self.desired[k].payload) for k in by_key}):
                results = self._map(lambda k: self._apply_job(by_key[k], ids, failed_paths, manifest, done, plan,
                                                              progress), wave)
                for o in results:
                    done[o.key] = o
                    if o.job_id is not None:
                        ids[o.key] = o.job_id
                outcomes.extend(results)
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
                listings: dict[str, dict[str, dict] | None] | None = None) -> dict[str, str]:
        paths = list(paths)
        if not paths:
            return {}
        # Create each folder once up front (mkdirs makes parents; idempotent) unless this plan's listing showed it,
        # or (not listed) the manifest shows that it already holds files we uploaded.
        listings = self._listings if listings is None else listings
        known = {f for f, objs in listings.items() if objs is not None} | {
            p.rsplit("/", 1)[0] for p in manifest.files if p.rsplit("/", 1)[0] not in listings}
        folders = sorted({p.rsplit("/", 1)[0] for p in paths} - known)
        leaves = [f for f in folders if not any(o.startswith(f + "/") for o in folders)]
        failed: dict[str, str] = {}
        for folder, err in zip(leaves, self._map(self._try(self.ws.mkdirs), leaves)):
            if err:
                for p in paths:
                    if p.startswith(folder + "/"):
                        failed[p] = err

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
        # what the workspace says about the files now (size, modified_at): a later listing that differs means
        # someone edited or deleted them there.  One listing per folder, in parallel.
        done = sorted({p.rsplit("/", 1)[0] for p in paths if p not in failed})
        for folder, objs in zip(done, self._map(self._list_quietly, done)):
            for path in paths:
                if path.rsplit("/", 1)[0] == folder and path not in failed:
                    info = (objs or {}).get(plain_path(path))
                    if info is None:
                        manifest.stats.pop(path, None)
                    else:
                        manifest.stats[path] = stat_of(info)
        ok = len(paths) - len(failed)
        why: dict[str, int] = {}
        for p in paths:
            if p not in failed:
                r = (reasons or {}).get(p, "changed")
                why[r] = why.get(r, 0) + 1
        detail = " (" + ", ".join(f"{n} {r}" for r, n in sorted(why.items())) + ")" if why else ""
        progress.step(f"uploaded       {ok} artifact(s){detail}" + (f", {len(failed)} FAILED" if failed else ""))
        return failed

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

    def _create(self, jp: JobPlan, payload: dict) -> int:
        job_id, adopted, uncertain = self.ws.create_job(payload, lambda: self._find_by_tags(jp.key, jp.name))
        if adopted:
            # an earlier attempt went through: make sure the job we found holds exactly this payload
            self.ws.reset_job(job_id, payload)
        if uncertain:
            with self._cache_lock:
                self._uncertain[jp.key] = (job_id, jp.name)
        return job_id

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
        deps = refs.references(d.payload)
        broken = sorted(k for k in deps if k in done and done[k].action == "failed")
        if broken:
            err = f"depends on job {broken[0]}, which failed"
            progress.step(f"failed         {label}: {err}")
            return Outcome(jp.key, "failed", jp.job_id, err)
        try:
            if self._lock_guard is not None:
                self._lock_guard.check()  # the renewer found our lock taken: write nothing more
            payload = self._resolve(d.payload, ids)
            action, job_id = "unchanged", jp.job_id
            with self.ws.label(jp.key):
                if jp.action == CREATE:
                    job_id, action = self._create(jp, payload), "created"
                elif jp.action == UPDATE:
                    try:
                        self.ws.reset_job(int(jp.job_id or 0), payload)  # full replace; never jobs/update (merges)
                        action = "updated"
                    except Exception as err:
                        if not is_not_found(err):
                            raise
                        # deleted by someone since the plan: create it again (looked up by tags if uncertain)
                        job_id, action = self._create(jp, payload), "created"
            if jp.key in plan.permissions and d.permissions is not None:
                self.ws.set_permissions(int(job_id or 0), d.permissions)
                manifest.permissions[jp.key] = permissions_digest(d.permissions)
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

    def lock(self, command: str, timeout: float = 0.0, *, folder_known: bool = True) -> DeployLock:
        self._pool.warm()  # the writers' threads start while the lock's round trips are under way
        return DeployLock(self.ws, self.root, command=command, timeout=timeout, folder_known=folder_known,
                          stream=self.stream)

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


def summary(outcomes: list[Outcome], uploads: int = 0) -> str:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.action] = counts.get(o.action, 0) + 1
    dups = sum(1 for o in outcomes if o.action == "deleted" and o.note == "duplicate")
    counts["deleted"] = counts.get("deleted", 0) - dups
    parts = [f"{counts.get(a, 0)} {a}" for a in ("created", "updated", "unchanged", "deleted")]
    if dups:
        parts.append(f"{dups} duplicate(s) deleted")
    text = ", ".join(parts) + f", {uploads} artifact(s) uploaded"
    failed = [o for o in outcomes if o.action == "failed"]
    if failed:
        text += f"; {len(failed)} FAILED:\n" + "\n".join(
            f"  {o.key}" + (f" (job {o.job_id})" if o.job_id else "") + f": {o.error}" for o in failed)
    return text
