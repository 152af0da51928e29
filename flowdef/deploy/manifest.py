"""The artifact manifest, ``<root>/.flowdef/manifest.json``: content hashes of what was uploaded, so a no-op apply
uploads nothing and reads one small file instead of every artifact.

It also keeps two *hints* - never the truth, which is the jobs' identity tags:

* ``jobs``: job key -> id of the job last applied.  ``jobs/list`` is eventually consistent, so a job created a
  moment ago may be missing from it; a hinted id is then checked with ``jobs/get`` (strongly consistent) before
  anything is created.  A wrong or missing hint costs nothing: the tags decide.
* ``permissions``: job key -> hash of the permissions last applied, so unchanged permissions are not re-sent.

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

    @classmethod
    def parse(cls, data: bytes | None) -> Manifest:
        if not data:
            return cls()
        try:
            raw = json.loads(data.decode("utf-8"))
            if raw.get("version") != VERSION:
                return cls()
            return cls(files={str(k): str(v) for k, v in (raw.get("files") or {}).items()},
                       jobs={str(k): int(v) for k, v in (raw.get("jobs") or {}).items()},
                       permissions={str(k): str(v) for k, v in (raw.get("permissions") or {}).items()})
        except Exception:  # noqa: BLE001 - a corrupt manifest only costs re-uploads
            return cls()

    def to_json(self) -> bytes:
        body = {"version": VERSION, "files": dict(sorted(self.files.items())),
                "jobs": dict(sorted(self.jobs.items())), "permissions": dict(sorted(self.permissions.items()))}
        return (json.dumps(body, indent=1, sort_keys=True) + "\n").encode("utf-8")

    def copy(self) -> Manifest:
        return Manifest(dict(self.files), dict(self.jobs), dict(self.permissions))


def changed_artifacts(artifacts: dict[str, tuple[str, str]], manifest: Manifest) -> list[str]:
    """``artifacts``: workspace path -> (kind, digest).  The paths whose digest the manifest does not have."""
    return sorted(p for p, (_, d) in artifacts.items() if manifest.files.get(p) != d)
