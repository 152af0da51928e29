"""The plan: what ``apply`` would do, per job, computed from the compiled payloads and the workspace's jobs.

Pure: :func:`build_plan` takes the desired payloads and what was read from the workspace (managed jobs with their
full settings, the names of unmanaged jobs) and returns a :class:`Plan`.  Rendering (text / JSON) is here too.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from flowdef.jobsapi.facts import IDENTITY_TAGS, JOB_TAG, PROJECT_TAG, TARGET_TAG
from flowdef.deploy.diff import Change, diff, short
from flowdef.deploy.mask import leaf_name, mask, mask_message, mask_text
from flowdef.deploy.normalize import JOB_DEFAULTS, TASK_DEFAULTS, comparable

CREATE, UPDATE, UNCHANGED, DELETE, CONFLICT = "create", "update", "unchanged", "delete", "conflict"
_SYMBOL = {CREATE: "+", UPDATE: "~", UNCHANGED: "=", DELETE: "-", CONFLICT: "!"}


@attrs.frozen
class RemoteJob:
    job_id: int
    settings: dict  # as the workspace returns them (full settings once fetched)

    @property
    def tags(self) -> dict:
        return self.settings.get("tags") or {}

    @property
    def name(self) -> str:
        return str(self.settings.get("name", ""))

    @property
    def key(self) -> str | None:
        return self.tags.get(JOB_TAG)


@attrs.frozen
class JobPlan:
    key: str
    action: str
    name: str
    job_id: int | None = None
    changes: tuple[Change, ...] = ()
    reason: str = ""  # conflicts and deletes: why
    kind: str = ""  # deletes: "removed" (no longer in the code) | "duplicate" (same identity as a kept job)
    auto: bool = False  # deletes apply makes without --prune (a duplicate its own lost create left)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"key": self.key, "action": self.action, "name": mask_text(self.name),
                               "job_id": self.job_id}
        if self.changes:
            out["changes"] = [_masked(c).to_dict() for c in self.changes]
        if self.reason:
            out["reason"] = mask_message(self.reason)
        if self.kind:
            out["kind"] = self.kind
        if self.auto:
            out["auto"] = True
        return out


def _masked(c: Change) -> Change:
    name = leaf_name(c.path)
    return Change(c.path, c.op, mask(c.old, name), mask(c.new, name))


@attrs.frozen
class Plan:
    target: str
    host: str
    jobs: tuple[JobPlan, ...]  # one per desired job, in key order
    deletes: tuple[JobPlan, ...] = ()  # managed jobs no longer in the code (applied only with --prune)
    uploads: tuple[str, ...] = ()  # workspace paths of artifacts whose content changed
    permissions: tuple[str, ...] = ()  # job keys whose declared permissions must be (re)applied
    removals: tuple[str, ...] = ()  # uploaded artifacts no job uses any more (removed only with --prune)
    upload_reasons: tuple[tuple[str, str], ...] = ()  # (path, why): new, changed in the code, deleted/edited...
    notes: tuple[str, ...] = ()  # situations worth a word that change nothing (a same-named job of another project)

    def by_action(self, action: str) -> list[JobPlan]:
        return [j for j in self.jobs if j.action == action]

    @property
    def conflicts(self) -> list[JobPlan]:
        return self.by_action(CONFLICT)

    @property
    def duplicates(self) -> list[JobPlan]:
        return [d for d in self.deletes if d.kind == "duplicate"]

    @property
    def removed(self) -> list[JobPlan]:
        return [d for d in self.deletes if d.kind != "duplicate"]

    def has_changes(self, prune: bool = True) -> bool:
        return bool(self.by_action(CREATE) or self.by_action(UPDATE) or self.uploads or self.permissions
                    or any(d.auto for d in self.deletes) or (prune and (self.deletes or self.removals)))

    def counts(self) -> dict[str, int]:
        return {
            CREATE: len(self.by_action(CREATE)),
            UPDATE: len(self.by_action(UPDATE)),
            UNCHANGED: len(self.by_action(UNCHANGED)),
            DELETE: len(self.deletes),
            CONFLICT: len(self.conflicts),
            "duplicates": len(self.duplicates),
            "uploads": len(self.uploads),
        }

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "host": self.host,
            "summary": self.counts(),
            "jobs": [j.to_dict() for j in self.jobs],
            "deletes": [j.to_dict() for j in self.deletes],
            "uploads": list(self.uploads),
            "permissions": list(self.permissions),
            "removals": list(self.removals),
            "upload_reasons": dict(self.upload_reasons),
            "notes": [mask_message(n) for n in self.notes],
        }


def _default_of(path: str):
    if path in JOB_DEFAULTS:
        return True, JOB_DEFAULTS[path]
    if path.startswith("tasks[") and "]." in path:
        field = path.split("].", 1)[1]
        if field in TASK_DEFAULTS:
            return True, TASK_DEFAULTS[field]
    return False, None


def _defaults_shown(changes: list[Change]) -> list[Change]:
    """Normalisation drops default values; a field "removed" on one side is really set to its default."""
    out = []
    for c in changes:
        known, default = _default_of(c.path)
        if known and c.op == "-":
            c = Change(c.path, "~", c.old, default)
        elif known and c.op == "+":
            c = Change(c.path, "~", default, c.new)
        out.append(c)
    return out


def is_managed(settings: dict, project: str, target: str) -> bool:
    tags = settings.get("tags") or {}
    return tags.get(PROJECT_TAG) == project and tags.get(TARGET_TAG) == target and bool(tags.get(JOB_TAG))


def build_plan(
    desired: dict[str, dict],
    managed: dict[str, list[RemoteJob]],
    unmanaged_names: dict[str, list[int]],
    *,
    target: str,
    host: str = "",
    uploads: tuple[str, ...] = (),
    permissions: tuple[str, ...] = (),
    removals: tuple[str, ...] = (),
    foreign: dict[str, list[tuple[int, dict]]] | None = None,
    project: str = "",
    suspects: dict[str, int] | None = None,
) -> Plan:
    """``desired``: job key -> compiled payload.  ``managed``: job key -> the workspace jobs carrying our identity
    tags for that key (full settings), oldest first.  ``unmanaged_names``: lower-cased name -> ids of jobs without
    any flowdef tag (for duplicate-name conflicts).  ``foreign``: lower-cased name -> (id, tags) of jobs with
    flowdef tags that are not this project's and target's full identity (another project or target, or tags edited
    by hand).  ``suspects``: keys whose create answer was lost in an earlier apply (their duplicates go without
    --prune)."""
    jobs: list[JobPlan] = []
    deletes: list[JobPlan] = []
    notes: list[str] = []
    foreign = foreign or {}
    suspects = suspects or {}
    # managed jobs whose key the code does not define, by name: a flowdef_job tag edited by hand looks like this
    orphans: dict[str, list[tuple[int, dict]]] = {}
    for key in sorted(set(managed) - set(desired)):
        for r in managed[key]:
            orphans.setdefault(r.name.lower(), []).append((r.job_id, r.tags))
    taken: set[int] = set()
    for key in sorted(desired):
        payload = desired[key]
        name = str(payload.get("name", ""))
        remotes = managed.get(key) or []
        others = foreign.get(name.lower(), [])
        edited = [(i, t) for i, t in others if t.get(PROJECT_TAG) == project
                  and t.get(TARGET_TAG) == target] + orphans.get(name.lower(), [])
        if not remotes:
            clash = unmanaged_names.get(name.lower())
            if edited:
                job_id, tags = edited[0]
                taken.add(job_id)
                jobs.append(JobPlan(key, CONFLICT, name, job_id, reason=(
                    f"job {job_id} has this name and this project's and target's tags, but flowdef_job="
                    f"{tags.get(JOB_TAG)!r} instead of {key!r}: its identity tag was probably edited by "
                    f"hand; refusing to create a duplicate - set its flowdef_job tag back to {key!r}, or adopt it "
                    f"with `flowdef bind {key} {job_id}`")))
                continue
            if clash:
                ids = ", ".join(str(i) for i in clash)
                jobs.append(JobPlan(key, CONFLICT, name, clash[0], reason=(
                    f"an unmanaged job with the same name exists (job {ids}); refusing to create a duplicate - "
                    f"adopt it with `flowdef bind {key} {clash[0]}`, or rename one of them")))
                continue
            jobs.append(JobPlan(key, CREATE, name))
        else:
            keep, extra = remotes[0], remotes[1:]
            want, have = comparable(payload, keep.settings)
            changes = tuple(_defaults_shown(diff(have, want)))
            jobs.append(JobPlan(key, UPDATE if changes else UNCHANGED, name, keep.job_id, changes))
            auto = key in suspects
            for dup in extra:
                why = ("left by a create whose answer was lost in an earlier apply: apply deletes it" if auto else
                       "probably left by an interrupted create, or copied in the UI with its tags: "
                       "`apply --prune` deletes it")
                deletes.append(JobPlan(key, DELETE, dup.name, dup.job_id, kind="duplicate", auto=auto,
                                       reason=f"duplicate of job {keep.job_id} (same identity tags), {why}"))
        for job_id, tags in others:
            if (job_id, tags) in edited:
                continue
            notes.append(f"{key}: job {job_id} has the same name {name!r} but belongs to flowdef project "
                         f"{tags.get(PROJECT_TAG)!r}, target {tags.get(TARGET_TAG)!r}: both jobs will "
                         f"exist side by side - rename one if that is not intended")
    for key in sorted(set(managed) - set(desired)):
        for r in managed[key]:
            why = "no longer defined in the code"
            if r.job_id in taken:
                why += (" - or its flowdef_job tag was edited by hand: it has the name of a job of the code "
                        "(see the conflict above)")
            deletes.append(JobPlan(key, DELETE, r.name, r.job_id, kind="removed", reason=why))
    return Plan(target=target, host=host, jobs=tuple(jobs), deletes=tuple(deletes), uploads=tuple(uploads),
                permissions=tuple(permissions), removals=tuple(removals), notes=tuple(notes))


# ------------------------------------------------------------------------------------------------ rendering


def render_text(plan: Plan, *, prune: bool | None = None, verbose_unchanged: bool = False) -> str:
    lines = [f"Plan for target {plan.target}" + (f" ({plan.host})" if plan.host else "") + ":"]
    for j in plan.jobs:
        if j.action == UNCHANGED and not verbose_unchanged and j.key not in plan.permissions:
            continue
        ident = f" (job {j.job_id})" if j.job_id is not None and j.action != CONFLICT else ""
        lines.append(f"  {_SYMBOL[j.action]} {j.action:<9} {j.key}{ident}  "
                     f"{json.dumps(mask_text(j.name), ensure_ascii=False)}")
        for c in (_masked(c) for c in j.changes):
            if c.op == "~":
                lines.append(f"      ~ {c.path}: {short(c.old)} -> {short(c.new)}")
            elif c.op == "+":
                lines.append(f"      + {c.path}: {short(c.new)}")
            else:
                lines.append(f"      - {c.path}: {short(c.old)}")
        if j.key in plan.permissions:
            lines.append("      ~ permissions: declared permissions will be applied")
        if j.reason:
            lines.append(f"      {mask_message(j.reason)}")
    for d in plan.deletes:
        note = "" if prune or d.auto else "  (only with --prune)"
        what = "duplicate" if d.kind == "duplicate" else "delete   "
        lines.append(f"  - {what} {d.key} (job {d.job_id})  {json.dumps(mask_text(d.name), ensure_ascii=False)}"
                     f"{note}")
        lines.append(f"      {mask_message(d.reason)}")
    if plan.uploads:
        reasons = dict(plan.upload_reasons)
        tally: dict[str, int] = {}
        for p in plan.uploads:
            tally[reasons.get(p, "changed")] = tally.get(reasons.get(p, "changed"), 0) + 1
        why = ", ".join(f"{n} {r}" for r, n in sorted(tally.items()))
        lines.append(f"  ^ upload    {len(plan.uploads)} artifact(s): {why}")
        for p in plan.uploads[:8]:
            lines.append(f"      {p}" + (f"  ({reasons[p]})" if p in reasons else ""))
        if len(plan.uploads) > 8:
            lines.append(f"      ... and {len(plan.uploads) - 8} more (`plan --format json` lists them all)")
    if plan.removals:
        note = "" if prune else "  (only with --prune)"
        lines.append(f"  - remove    {len(plan.removals)} uploaded artifact(s) no job uses any more{note}")
    for text in plan.notes:
        lines.append(f"  note: {mask_message(text)}")
    n = plan.counts()
    lines.append(
        f"Plan: {n[CREATE]} to create, {n[UPDATE]} to update, {n[UNCHANGED]} unchanged, "
        f"{n[DELETE] - n['duplicates']} to delete" + ("" if prune else " (with --prune)")
        + (f", {n['duplicates']} duplicate(s)" if n["duplicates"] else "")
        + f", {n['uploads']} upload(s)" + (f", {n[CONFLICT]} conflict(s)" if n[CONFLICT] else "") + "."
    )
    return "\n".join(lines)


def render_json(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)


__all__ = [
    "CONFLICT",
    "CREATE",
    "DELETE",
    "IDENTITY_TAGS",
    "UNCHANGED",
    "UPDATE",
    "JobPlan",
    "Plan",
    "RemoteJob",
    "build_plan",
    "is_managed",
    "render_json",
    "render_text",
]
