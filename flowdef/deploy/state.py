"""What deploy reads and reports: the desired jobs, what was read from the workspace, outcomes, progress lines
and the summary (the data around :class:`flowdef.deploy.engine.Deployer`, which re-exports them)."""

from __future__ import annotations

import sys
import threading

import attrs

from flowdef.compile.compiler import Artifact, CompiledJob
from flowdef.deploy import refs
from flowdef.deploy.client import Workspace
from flowdef.deploy.manifest import Manifest, manifest_path
from flowdef.deploy.mask import mask_message
from flowdef.deploy.plan import RemoteJob

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
    placeholders: bool = True  # False: the compiler found no deploy-time placeholder (no need to look again)

    @classmethod
    def of(cls, compiled: CompiledJob, permissions: list | None = None) -> Desired:
        # the body with its deploy-time placeholders in place: refs.resolve fills them in (ADR 0004)
        return cls(compiled.key, compiled.deploy_payload, compiled.artifacts, permissions,
                   placeholders=bool(compiled.deploy_time))

    def has_placeholders(self) -> bool:
        return self.placeholders and bool(refs.found(self.payload))


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
