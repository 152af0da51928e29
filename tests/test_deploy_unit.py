"""The pure parts of deploy: normalisation, diff, plan, manifest, lock protocol, job references."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from flowdef.deploy import refs
from flowdef.deploy.diff import Change, diff
from flowdef.deploy.lock import DeployLock, LockHeld, LockInfo, break_lock, lock_path
from flowdef.deploy.manifest import Manifest, changed_artifacts, digest
from flowdef.deploy.normalize import comparable, normalize
from flowdef.deploy.plan import (
    CONFLICT,
    CREATE,
    UNCHANGED,
    UPDATE,
    RemoteJob,
    build_plan,
    render_text,
)

PAYLOAD = {
    "name": "etl",
    "tags": {"flowdef_project": "p", "flowdef_target": "prod", "flowdef_job": "etl"},
    "tasks": [
        {"task_key": "a", "notebook_task": {"notebook_path": "/nb", "source": "WORKSPACE"}},
        {"task_key": "b", "depends_on": [{"task_key": "a"}], "notebook_task": {"notebook_path": "/nb"},
         "run_if": "ALL_DONE"},
    ],
    "max_concurrent_runs": 1,
}
SERVER = {
    "name": "etl", "format": "MULTI_TASK", "email_notifications": {}, "webhook_notifications": {},
    "timeout_seconds": 0, "max_concurrent_runs": 1, "queue": {"enabled": True},
    "run_as": {"user_name": "me@example.com"},
    "tags": {"flowdef_project": "p", "flowdef_target": "prod", "flowdef_job": "etl"},
    "tasks": [
        {"task_key": "b", "depends_on": [{"task_key": "a"}], "run_if": "ALL_DONE", "timeout_seconds": 0,
         "email_notifications": {}, "notebook_task": {"notebook_path": "/nb", "source": "WORKSPACE"}},
        {"task_key": "a", "run_if": "ALL_SUCCESS", "timeout_seconds": 0, "email_notifications": {},
         "notebook_task": {"notebook_path": "/nb", "source": "WORKSPACE"}},
    ],
}


def test_server_defaults_and_order_are_not_drift():
    want, have = comparable(PAYLOAD, SERVER)
    assert want == have
    assert diff(have, want) == []


def test_normalize_is_pure_and_keyed():
    before = json.dumps(PAYLOAD, sort_keys=True)
    n = normalize(PAYLOAD)
    assert json.dumps(PAYLOAD, sort_keys=True) == before
    assert set(n["tasks"]) == {"a", "b"}


def test_diff_paths_are_keyed_by_task():
    new = json.loads(json.dumps(PAYLOAD))
    new["tasks"][1]["notebook_task"]["notebook_path"] = "/other"
    new["tasks"].append({"task_key": "c", "notebook_task": {"notebook_path": "/nb"}})
    new["name"] = "etl2"
    changes = diff(*reversed(comparable(new, SERVER)))
    assert changes == [
        Change("name", "~", "etl", "etl2"),
        Change("tasks[b].notebook_task.notebook_path", "~", "/nb", "/other"),
        Change("tasks[c]", "+", None, {"task_key": "c", "notebook_task": {"notebook_path": "/nb"}}),
    ]


def test_build_plan_actions():
    other = dict(PAYLOAD, name="new job", tags=dict(PAYLOAD["tags"], flowdef_job="new"))
    clash = dict(PAYLOAD, name="Taken", tags=dict(PAYLOAD["tags"], flowdef_job="clash"))
    changed = dict(PAYLOAD, name="renamed", tags=dict(PAYLOAD["tags"], flowdef_job="ren"))
    plan = build_plan(
        {"etl": PAYLOAD, "new": other, "clash": clash, "ren": changed},
        {"etl": [RemoteJob(1, SERVER), RemoteJob(5, SERVER)], "ren": [RemoteJob(2, SERVER)],
         "gone": [RemoteJob(3, SERVER)]},
        {"taken": [9]}, target="prod")
    actions = {j.key: j.action for j in plan.jobs}
    assert actions == {"etl": UNCHANGED, "new": CREATE, "clash": CONFLICT, "ren": UPDATE}
    assert [(d.key, d.job_id) for d in plan.deletes] == [("etl", 5), ("gone", 3)]
    assert "duplicate of job 1" in plan.deletes[0].reason
    text = render_text(plan)
    assert "flowdef bind clash 9" in text
    assert 'name: "etl" -> "renamed"' in text
    assert "(only with --prune)" in text


def test_manifest_round_trip_and_changes():
    m = Manifest(files={"/a": digest(b"x")}, jobs={"k": 3}, permissions={"k": "h"})
    assert Manifest.parse(m.to_json()) == m
    assert Manifest.parse(b"not json") == Manifest()
    arts = {"/a": ("file", digest(b"x")), "/b": ("file", digest(b"y"))}
    assert changed_artifacts(arts, m) == ["/b"]
    assert digest(b"x", "file") != digest(b"x", "notebook")


class MemoryStore:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def read(self, path):
        return self.files.get(path)

    def create(self, path, data):
        if path in self.files:
            return False
        self.files[path] = data
        return True

    def write(self, path, data):
        self.files[path] = data

    def mkdirs(self, path):
        pass

    def delete(self, path):
        self.files.pop(path, None)


def test_lock_protocol():
    store = MemoryStore()
    first = DeployLock(store, "/root", command="apply")
    info = first.acquire()
    assert LockInfo.parse(store.files[lock_path("/root")]) == info
    with pytest.raises(LockHeld) as held:
        DeployLock(store, "/root").acquire()
    assert "is held by" in str(held.value) and not held.value.stale
    first.release()
    assert store.files == {}
    with DeployLock(store, "/root"):
        assert lock_path("/root") in store.files
    assert store.files == {}


def test_stale_lock_and_break():
    store = MemoryStore()
    old = LockInfo("x", "ci", "box", 1, time.time() - 3 * 3600, "apply")
    store.files[lock_path("/r")] = old.to_json()
    with pytest.raises(LockHeld) as held:
        DeployLock(store, "/r").acquire()
    assert held.value.stale and "--break-lock" in str(held.value) and "3h00m ago" in str(held.value)
    assert break_lock(store, "/r") == old
    assert break_lock(store, "/r") is None


def test_release_keeps_someone_elses_lock():
    store = MemoryStore()
    mine = DeployLock(store, "/r")
    mine.acquire()
    store.files[lock_path("/r")] = LockInfo("theirs", "a", "b", 1, time.time()).to_json()  # broken and retaken
    mine.release()
    assert lock_path("/r") in store.files


def test_lock_waits_for_timeout():
    store = MemoryStore()
    held = DeployLock(store, "/r")
    held.acquire()
    start = time.monotonic()
    with pytest.raises(LockHeld):
        DeployLock(store, "/r", timeout=0.3, poll=0.1).acquire()
    assert time.monotonic() - start >= 0.3
    held.release()


def test_lease_rules_and_breaking():
    now = time.time()
    live = LockInfo("a", "ci", "elsewhere", 1, now - 600, "apply", lease_until=now + 60)
    assert live.stale_reason(now) is None  # old, but its lease is renewed
    expired = LockInfo("b", "ci", "elsewhere", 1, now - 600, "apply", lease_until=now - 1)
    assert "lease ran out" in expired.stale_reason(now)
    store = MemoryStore()
    store.files[lock_path("/r")] = live.to_json()
    with pytest.raises(Exception, match="refusing to break the deploy lock"):
        break_lock(store, "/r")
    assert break_lock(store, "/r", force=True) == live and store.files == {}
    store.files[lock_path("/r")] = expired.to_json()
    assert break_lock(store, "/r") == expired


def test_renewal_extends_the_lease():
    store = MemoryStore()
    lock = DeployLock(store, "/r", lease=10)
    first = lock.acquire().lease_until
    time.sleep(0.01)
    lock.renew()
    assert LockInfo.parse(store.files[lock_path("/r")]).lease_until > first
    lock.release()
    assert store.files == {}


def test_job_references_and_waves():
    payload = {"tasks": [{"task_key": "t", "run_job_task": {"job_id": "${flowdef.jobs.upstream.id}"}},
                         {"task_key": "u", "pipeline_task": {"pipeline_id": "${flowdef.pipelines.my.pipe.id}"}}],
               "trigger": {"job_completion": {"jobs": [{"job_id": "${flowdef.jobs.b.id}",
                                                        "workspace_id": "${flowdef.workspace.id}"}]}}}
    assert refs.references(payload) == {"upstream", "b"}
    assert refs.pipeline_names(payload) == {"my.pipe"} and refs.needs_workspace_id(payload)
    resolved = refs.resolve(payload, {"upstream": 12, "b": 7}, {"my.pipe": "p-1"}, "99")
    assert resolved["tasks"][0]["run_job_task"]["job_id"] == 12
    assert resolved["tasks"][1]["pipeline_task"]["pipeline_id"] == "p-1"
    assert resolved["trigger"]["job_completion"]["jobs"] == [{"job_id": "7", "workspace_id": "99"}]
    with pytest.raises(refs.Unresolved):
        refs.resolve(payload, {"b": 7}, {"my.pipe": "p-1"}, "99")
    assert refs.waves({"a": set(), "b": {"a"}, "c": {"b", "outside"}, "d": set()}) == [["a", "d"], ["b"], ["c"]]


def test_validate_does_not_import_the_sdk():
    code = ("import sys; from flowdef.cli import main; main(['validate']); "
            "import flowdef.deploy, flowdef.deploy.plan, flowdef.deploy.engine; "
            "print('databricks.sdk' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=str(
        __import__("pathlib").Path(__file__).resolve().parents[1]))
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr
