"""The artifact manifest, ``<root>/.flowdef/manifest.json``: content hashes of what was uploaded, so a no-op apply
uploads nothing and reads one small file instead of every artifact.

It also keeps two *hints* - never the truth, which is the jobs' identity tags:

* ``jobs``: job key -> id of the job last applied.  ``jobs/list`` is eventually consistent, so a job created a
  moment ago may be missing from it; a hinted id is then checked with ``jobs/get`` (strongly consistent) before
  anything is created.  A wrong or missing hint costs nothing: the tags decide.
* ``permissions``: job key -> hash of the permissions last applied, so unchanged permissions are not re-sent.

And what deploy needs to notice other writers:

* ``stats``: workspace path -> ``[size, modified_at]`` of each artifact as the workspace listed it right after
  the upload; a later listing that differs (or lacks the file) means it was edited or deleted in the workspace.
* ``generation``: a random id written by every apply that held the lock.  An apply that planned without the lock
  re-reads only the manifest once it holds the lock: the same generation means no other apply ran in between.
* ``suspects``: job key -> id, for creates whose answer was lost and whose duplicate sweep could not finish
  (``jobs/list`` lagged too long): the next apply deletes a duplicate of that key without ``--prune``.

Losing the manifest is harmless: every artifact is uploaded once more and the jobs are found by their tags.
"""

from __future__ import annotations

import hashlib
import json

import attrs

VERSION = 1


def manifest_path(root: str) -> str:
    return f"{root}/.flowdef/manifest.json"


def digest(data: bytes, kind: str = "file") -> str:
    """Hash of an artifact's content *and* kind (a file re-uploaded as a notebook is a change)."""
    return hashlib.sha256(kind.encode() + b"\0" + data).hexdigest()


def permissions_digest(acl: list[dict]) -> str:
    return hashlib.sha256(json.dumps(acl, sort_keys=True).encode()).hexdigest()


@attrs.define
class Manifest:
    files: dict[str, str] = attrs.field(factory=dict)  # workspace path -> digest
    jobs: dict[str, int] = attrs.field(factory=dict)
    permissions: dict[str, str] = attrs.field(factory=dict)
    stats: dict[str, list] = attrs.field(factory=dict)  # workspace path -> [size or None, modified_at]
    generation: str | None = None
    suspects: dict[str, int] = attrs.field(factory=dict)
    found: bool = attrs.field(default=False, eq=False)  # read from the workspace (False: there was none)

    @classmethod
    def parse(cls, data: bytes | None) -> Manifest:
        if not data:
            return cls()
        try:
            raw = json.loads(data.decode("utf-8"))
            if raw.get("version") != VERSION:
                return cls(generation=str(raw.get("generation") or "") or None, found=True)
            return cls(files={str(k): str(v) for k, v in (raw.get("files") or {}).items()},
                       jobs={str(k): int(v) for k, v in (raw.get("jobs") or {}).items()},
                       permissions={str(k): str(v) for k, v in (raw.get("permissions") or {}).items()},
                       stats={str(k): list(v) for k, v in (raw.get("stats") or {}).items()},
                       generation=str(raw.get("generation") or "") or None,
                       suspects={str(k): int(v) for k, v in (raw.get("suspects") or {}).items()}, found=True)
        except Exception:  # noqa: BLE001 - a corrupt manifest only costs re-uploads
            return cls(found=True)

    def to_json(self) -> bytes:
        body = {"version": VERSION, "files": dict(sorted(self.files.items())),
                "jobs": dict(sorted(self.jobs.items())), "permissions": dict(sorted(self.permissions.items())),
                "stats": dict(sorted(self.stats.items())), "generation": self.generation,
                "suspects": dict(sorted(self.suspects.items()))}
        return (json.dumps(body, indent=1, sort_keys=True) + "\n").encode("utf-8")

    def copy(self) -> Manifest:
        return Manifest(dict(self.files), dict(self.jobs), dict(self.permissions),
                        {k: list(v) for k, v in self.stats.items()}, self.generation, dict(self.suspects), self.found)


def changed_artifacts(artifacts: dict[str, tuple[str, str]], manifest: Manifest) -> list[str]:
    """``artifacts``: workspace path -> (kind, digest).  The paths whose digest the manifest does not have."""
    return sorted(p for p, (_, d) in artifacts.items() if manifest.files.get(p) != d)


def plain_path(path: str) -> str:
    """Workspace paths compare without the ``/Workspace`` prefix (the API reports them without it)."""
    return path[len("/Workspace"):] if path == "/Workspace" or path.startswith("/Workspace/") else path


def stat_of(info: dict) -> list:
    """What the manifest remembers of a listed workspace object: ``[size, modified_at]``."""
    return [info.get("size"), info.get("modified_at")]


def artifact_drift(artifacts: dict[str, tuple[str, str]], manifest: Manifest,
                   listings: dict[str, dict[str, dict] | None], *, force: bool = False) -> dict[str, str]:
    """Path -> why it must be uploaded: ``new``, ``changed in the code``, ``deleted in the workspace``, ``edited in
    the workspace`` (size or modification time differs from what was recorded after our upload), ``forced``.
    ``listings``: folder -> its objects by path (None: the folder is gone), one listing per artifact folder."""
    out: dict[str, str] = {}
    for path, (_, digest_) in sorted(artifacts.items()):
        if path not in manifest.files:
            out[path] = "new"
            continue
        if manifest.files[path] != digest_:
            out[path] = "changed in the code"
            continue
        folder = path.rsplit("/", 1)[0]
        if folder in listings:
            listed = listings[folder]
            info = None if listed is None else listed.get(plain_path(path))
            if info is None:
                out[path] = "deleted in the workspace"
                continue
            recorded = manifest.stats.get(path)
            if recorded is not None and _differs(recorded, stat_of(info)):
                out[path] = "edited in the workspace"
                continue
        if force:
            out[path] = "forced (--force-upload)"
    return out


def _differs(recorded: list, now: list) -> bool:
    size_a, mod_a = (list(recorded) + [None, None])[:2]
    size_b, mod_b = now
    if size_a is not None and size_b is not None and size_a != size_b:
        return True
    return mod_a is not None and mod_b is not None and mod_a != mod_b
