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
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs

from flowdef.compile.compiler import Artifact, CompiledJob
from flowdef.deploy import refs
from flowdef.deploy.client import Workspace, describe, is_not_found
from flowdef.deploy.lock import DeployLock
from flowdef.deploy.manifest import (
    Manifest,
    changed_artifacts,
    digest,
    manifest_path,
    permissions_digest,
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
from flowdef.errors import WorkspaceError
from flowdef.jobsapi.facts import JOB_TAG, PROJECT_TAG

READ_CONCURRENCY = 16
_LANGUAGES = {".py": "PYTHON", ".sql": "SQL", ".scala": "SCALA", ".r": "R"}


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


@attrs.define
class Outcome:
    key: str
    action: str  # created / updated / unchanged / deleted / failed / adopted
    job_id: int | None = None
    error: str = ""


class Progress:
    """One line per finished step on stderr; plain text, safe when stderr is not a terminal."""

    def __init__(self, total: int, stream=None, quiet: bool = False) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self._lock = threading.Lock()

    def step(self, text: str) -> None:
        with self._lock:
            self.done += 1
            if not self.quiet:
                width = len(str(self.total))
                print(f"[{self.done:>{width}}/{self.total}] {text}", file=self.stream, flush=True)

    def note(self, text: str) -> None:
        if not self.quiet:
            with self._lock:
                print(text, file=self.stream, flush=True)


class Deployer:
    def __init__(self, ws: Workspace, *, project: str, target: str, root: str, desired: Iterable[Desired] = (),
                 concurrency: int = 8, stream=None, quiet: bool = False, complete: bool = True) -> None:
        """``complete``: ``desired`` is the whole project (False when only some pipeline files were loaded: then
        nothing is "no longer in the code", so nothing is deleted or pruned)."""
        self.ws = ws
        self.complete = complete
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

    # ------------------------------------------------------------------------------------------- reading

    def _map(self, fn: Callable, items: list, workers: int | None = None) -> list:
        workers = workers or self.concurrency
        if len(items) <= 1 or workers == 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
            return list(pool.map(fn, items))

    def _managed(self, settings: dict) -> bool:
        return is_managed(settings, self.project, self.target)

    def read_state(self, full_for: Iterable[str] | None = None) -> State:
        """Manifest (1 read) + one paginated ``jobs/list`` + parallel ``jobs/get`` for the managed jobs whose full
        settings are needed (default: those the code defines)."""
        manifest = Manifest.parse(self.ws.read(manifest_path(self.root)))
        light: dict[str, list[tuple[int, dict]]] = {}
        unmanaged: dict[str, list[int]] = {}
        seen: set[int] = set()
        for job in self.ws.list_jobs():
            job_id = int(job["job_id"])
            seen.add(job_id)
            settings = job.get("settings") or {}
            if self._managed(settings):
                light.setdefault(settings["tags"][JOB_TAG], []).append((job_id, settings))
            elif not (settings.get("tags") or {}).get(PROJECT_TAG):
                unmanaged.setdefault(str(settings.get("name", "")).lower(), []).append(job_id)
        wanted = set(self.desired if full_for is None else full_for)
        # jobs/list is eventually consistent: a job applied a moment ago may be missing.  The manifest remembers the
        # ids we applied; check the missing ones with jobs/get (consistent).  The tags, not the hint, decide.
        hinted = [(k, i) for k, i in manifest.jobs.items() if k not in light and i not in seen]
        fetched: dict[int, dict | None] = {}
        to_get = sorted({i for k in wanted for i, _ in light.get(k, [])} | {i for _, i in hinted})
        # reads are cheap for the service: fetch with at least 16 at once, whatever --concurrency says for writes
        for job_id, job in zip(to_get, self._map(self.ws.get_job, to_get, max(self.concurrency, READ_CONCURRENCY))):
            fetched[job_id] = job
        for key, job_id in hinted:
            hit = fetched.get(job_id)
            if hit is not None and self._managed(hit.get("settings") or {}) and \
                    hit["settings"]["tags"][JOB_TAG] == key:
                light.setdefault(key, []).append((job_id, hit["settings"]))
        managed: dict[str, list[RemoteJob]] = {}
        for key, jobs in light.items():
            remotes = []
            for job_id, settings in sorted(jobs, key=lambda t: t[0]):
                if key in wanted:
                    full = fetched.get(job_id)
                    if full is None:  # deleted between list and get
                        continue
                    settings = full.get("settings") or {}
                remotes.append(RemoteJob(job_id, settings))
            if remotes and (self.complete or key in self.desired):
                managed[key] = remotes
        return State(manifest, managed, unmanaged)

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
        arts = self.artifacts()
        uploads = changed_artifacts({p: (a.kind, h) for p, (a, h) in arts.items()}, state.manifest)
        desired = {k: d.payload for k, d in self.desired.items()}
        removals = tuple(sorted(set(state.manifest.files) - set(arts))) if self.complete else ()
        plan = build_plan(desired, state.managed, state.unmanaged_names, target=self.target, host=self.ws.host,
                          uploads=tuple(uploads), removals=removals)
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
                    jp = single.jobs[0]
            jobs.append(jp)
        return attrs.evolve(plan, jobs=tuple(jobs))

    # ------------------------------------------------------------------------------------------- applying

    def apply(self, plan: Plan, state: State, *, prune: bool = False,
              confirmed_deletes: set[int] | None = None) -> list[Outcome]:
        """Carry out ``plan`` (made under the lock).  Never raises for one job's failure: every other job is still
        applied, and the outcome list names what failed and why."""
        arts = self.artifacts()
        manifest = state.manifest.copy()
        deletes = [d for d in plan.deletes if prune and (confirmed_deletes is None or d.job_id in confirmed_deletes)]
        total = (1 if plan.uploads else 0) + len(plan.jobs) + len(deletes)
        progress = Progress(total, self.stream, self.quiet)
        outcomes: list[Outcome] = []
        failed_paths = self._upload(plan.uploads, arts, manifest, progress)
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
            progress.note(f"removed {len(gone)} artifact(s) no job uses any more"
                          + (f"; {len(plan.removals) - len(gone)} could not be removed" if len(gone) < len(
                              plan.removals) else ""))
        if manifest != state.manifest:
            try:
                self.ws.write(manifest_path(self.root), manifest.to_json())
            except Exception as err:  # noqa: BLE001 - the jobs are applied; only the cache is stale
                progress.note(f"warning: could not write the manifest ({describe(err)}); the next apply re-uploads")
        return outcomes

    def _upload(self, paths: Iterable[str], arts: dict[str, tuple[Artifact, str]], manifest: Manifest,
                progress: Progress) -> dict[str, str]:
        paths = list(paths)
        if not paths:
            return {}
        # Create each folder once up front (mkdirs makes parents; idempotent) unless the manifest shows that it
        # already holds files we uploaded.
        known = {p.rsplit("/", 1)[0] for p in manifest.files}
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
                progress.note(f"upload failed: {path}: {err}")
            else:
                manifest.files[path] = arts[path][1]
        ok = len(paths) - len(failed)
        progress.step(f"uploaded       {ok} artifact(s)" + (f", {len(failed)} FAILED" if failed else ""))
        return failed

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
            payload = self._resolve(d.payload, ids)
            action, job_id = "unchanged", jp.job_id
            if jp.action == CREATE:
                job_id, adopted = self.ws.create_job(payload, lambda: self._find_by_tags(jp.key, jp.name))
                action = "created"
                if adopted:
                    # the lost create went through: make sure the job we found holds exactly this payload
                    self.ws.reset_job(job_id, payload)
            elif jp.action == UPDATE:
                try:
                    self.ws.reset_job(int(jp.job_id or 0), payload)  # full replace; never jobs/update (it merges)
                    action = "updated"
                except Exception as err:
                    if not is_not_found(err):
                        raise
                    # deleted by someone since the plan: create it again (found by tags if that create is lost)
                    job_id, _ = self.ws.create_job(payload, lambda: self._find_by_tags(jp.key, jp.name))
                    action = "created"
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
        try:
            self.ws.delete_job(int(d.job_id or 0))
        except Exception as err:  # noqa: BLE001
            msg = describe(err)
            progress.step(f"delete failed  {d.key} (job {d.job_id}): {msg}")
            return Outcome(d.key, "failed", d.job_id, msg)
        if manifest.jobs.get(d.key) == d.job_id:
            del manifest.jobs[d.key]
            manifest.permissions.pop(d.key, None)
        progress.step(f"deleted        {d.key} (job {d.job_id})")
        return Outcome(d.key, "deleted", d.job_id)

    def lock(self, command: str, timeout: float = 0.0) -> DeployLock:
        return DeployLock(self.ws, self.root, command=command, timeout=timeout)


def summary(outcomes: list[Outcome], uploads: int = 0) -> str:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.action] = counts.get(o.action, 0) + 1
    parts = [f"{counts.get(a, 0)} {a}" for a in ("created", "updated", "unchanged", "deleted")]
    text = ", ".join(parts) + f", {uploads} artifact(s) uploaded"
    failed = [o for o in outcomes if o.action == "failed"]
    if failed:
        text += f"; {len(failed)} FAILED:\n" + "\n".join(
            f"  {o.key}" + (f" (job {o.job_id})" if o.job_id else "") + f": {o.error}" for o in failed)
    return text
