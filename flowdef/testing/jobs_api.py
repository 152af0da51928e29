"""Jobs API 2.2 (and 2.1) job endpoints and job permissions of the fake workspace.

Shapes follow databricks-sdk 0.162 (``service/jobs.py`` and the ``JobsExt`` mixin):

* ``jobs/get`` pages the arrays ``tasks``, ``job_clusters``, ``environments`` and ``parameters``
  100 items at a time; later pages carry only the arrays that still have items, plus
  ``next_page_token`` while any array has more (``JobsExt.get`` concatenates the pages).  Through the
  ``/api/2.1/`` prefix the whole job comes in one response, as API 2.1 did.
* ``jobs/list`` pages jobs (``limit`` 1..100, default 20) in ascending ``job_id`` order; without
  ``expand_tasks`` the settings omit ``tasks`` and ``job_clusters``; with it each job carries the
  first 100 items of each array and ``has_more`` (``JobsExt.list`` then calls ``jobs/get``).
* ``jobs/update`` replaces top-level fields, merges ``tasks``/``job_clusters``/``environments`` by
  key (a task with the same ``task_key`` is replaced whole) and applies ``fields_to_remove``
  (top-level names or ``tasks/<key>``, ``job_clusters/<key>``, ``environments/<key>``) first.
* ``jobs/reset`` replaces the settings, except that leaving out ``run_as`` keeps the previous
  ``run_as`` (a service quirk recorded by the Databricks CLI's own test server).
"""

from __future__ import annotations

import builtins
import copy
import time
from typing import Any

import orjson

from flowdef.testing._wire import (
    Request,
    Response,
    body_dict,
    decode_token,
    encode_token,
    need_int,
    opt_bool,
    opt_int,
    parse_int,
)
from flowdef.testing.jobs_validate import fill_defaults, validate
from flowdef.testing.state import (
    ApiError,
    JobMeta,
    Options,
    WorkspaceState,
    invalid,
    not_found,
    now_ms,
)

__all__ = ["PERMISSION_LEVELS", "JobsApi"]

PAGE_SIZE = 100
PAGED_ARRAYS = ("tasks", "job_clusters", "environments", "parameters")
KEYED_ARRAYS = {"tasks": "task_key", "job_clusters": "job_cluster_key", "environments": "environment_key"}
PERMISSION_LEVELS = {
    "CAN_VIEW": "Can view job",
    "CAN_MANAGE_RUN": "Can manage runs of job",
    "IS_OWNER": "Is owner of job",
    "CAN_MANAGE": "Can manage job",
}
_PRINCIPALS = ("user_name", "group_name", "service_principal_name")


def _copy(value: Any) -> Any:
    """A deep copy of JSON data (what the fake stores and answers).  Through orjson: ~10x faster than
    ``copy.deepcopy``, which was the largest CPU cost of answering ``jobs/list`` and ``jobs/create`` - and the fake
    runs in the client's interpreter, where its CPU delays the client's own requests."""
    try:
        return orjson.loads(orjson.dumps(value))
    except (TypeError, orjson.JSONEncodeError):  # not plain JSON (a tuple key, a huge int): the general copy
        return copy.deepcopy(value)


class JobsApi:
    def __init__(self, state: WorkspaceState, options: Options) -> None:
        self.state = state
        self.options = options

    # ---------------------------------------------------------------- helpers

    def settings_of(self, job_id: int) -> dict[str, Any]:
        settings = self.state.jobs.get(job_id)
        if settings is None:
            raise not_found("Job", job_id, self.options)
        return settings

    def _prepare(self, settings: Any, prefix: str, api_version: str) -> dict[str, Any]:
        validate(settings, prefix)
        stored = _copy(settings)
        if self.options.server_defaults:
            fill_defaults(stored, api_version)
        return stored

    def run_as_user_name(self, job_id: int) -> str:
        run_as = self.state.jobs[job_id].get("run_as") or {}
        return run_as.get("user_name") or run_as.get("service_principal_name") or \
            self.state.job_meta[job_id].creator_user_name

    def add_job(self, settings: dict[str, Any], api_version: str = "2.2",
                access_control_list: list | None = None) -> int:
        """Validate, store and grant ownership; returns the new job id (caller holds the lock)."""
        stored = self._prepare(settings, "settings", api_version)
        acl = self._check_acl(access_control_list or [])
        job_id = self.state.next_job_id()
        self.state.jobs[job_id] = stored
        self.state.job_meta[job_id] = JobMeta(self.state.user_name, now_ms(), api_version,
                                              list_hidden_for=self.options.list_lag,
                                              list_hidden_until=time.monotonic() + self.options.list_lag_seconds)
        self.state.permissions[job_id] = [{"user_name": self.state.user_name, "permission_level": "IS_OWNER"}]
        if acl:
            self._apply_acl(job_id, acl, replace=False)
        return job_id

    # ---------------------------------------------------------------- endpoints

    def create(self, req: Request) -> Response:
        body = dict(body_dict(req))
        acl = body.pop("access_control_list", None)
        with self.state.lock:
            job_id = self.add_job(body, req.api_version, acl)
        return Response(body={"job_id": job_id})

    def reset(self, req: Request) -> Response:
        body = body_dict(req)
        job_id = need_int(body, "job_id")
        if body.get("new_settings") is None:
            raise invalid("Missing required field: new_settings")
        with self.state.lock:
            previous = self.settings_of(job_id)
            new = _copy(body["new_settings"])
            if isinstance(new, dict) and "run_as" not in new and "run_as" in previous:
                new["run_as"] = _copy(previous["run_as"])
            self.state.jobs[job_id] = self._prepare(new, "new_settings", self.state.job_meta[job_id].api_version)
        return Response(body={})

    def update(self, req: Request) -> Response:
        body = body_dict(req)
        job_id = need_int(body, "job_id")
        new_settings = body.get("new_settings") or {}
        if not isinstance(new_settings, dict):
            raise ApiError(400, "MALFORMED_REQUEST", "Could not parse request object: new_settings must be an object")
        with self.state.lock:
            merged = _copy(self.settings_of(job_id))
            for name in body.get("fields_to_remove") or ():
                _remove_field(merged, str(name))
            for name, value in new_settings.items():
                if name in KEYED_ARRAYS and isinstance(value, list):
                    merged[name] = _merge_by_key(merged.get(name) or [], value, KEYED_ARRAYS[name])
                else:
                    merged[name] = _copy(value)
            self.state.jobs[job_id] = self._prepare(merged, "new_settings", self.state.job_meta[job_id].api_version)
        return Response(body={})

    def delete(self, req: Request) -> Response:
        job_id = need_int(body_dict(req), "job_id")
        with self.state.lock:
            self.settings_of(job_id)
            del self.state.jobs[job_id]
            del self.state.job_meta[job_id]
            self.state.permissions.pop(job_id, None)
        return Response(body={})

    def get(self, req: Request) -> Response:
        job_id = need_int(req.query, "job_id")
        page = decode_token(req.query["page_token"]) if req.query.get("page_token") else 0
        with self.state.lock:
            settings = _copy(self.settings_of(job_id))
            meta = self.state.job_meta[job_id]
            job: dict[str, Any] = {
                "job_id": job_id,
                "creator_user_name": meta.creator_user_name,
                "run_as_user_name": self.run_as_user_name(job_id),
                "created_time": meta.created_time,
            }
        if req.api_version == "2.1":
            job["settings"] = settings
            return Response(body=job)
        more = False
        for name in PAGED_ARRAYS:
            items = settings.pop(name, None)
            if items is None:
                continue
            chunk = items[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
            if chunk or page == 0:
                settings[name] = chunk
            more = more or len(items) > (page + 1) * PAGE_SIZE
        job["settings"] = settings
        if more:
            job["next_page_token"] = encode_token(page + 1)
        return Response(body=job)

    def list(self, req: Request) -> Response:
        limit = opt_int(req.query, "limit", 20)
        if limit is None or not 1 <= limit <= 100:
            raise invalid(f"Invalid limit {req.query.get('limit')}: limit must be between 1 and 100.")
        start = opt_int(req.query, "offset", 0) or 0
        if req.query.get("page_token"):
            start = decode_token(req.query["page_token"])
        name = req.query.get("name")
        expand = opt_bool(req.query, "expand_tasks")
        with self.state.lock:
            visible = []
            for job_id in sorted(self.state.jobs):
                meta = self.state.job_meta[job_id]
                if meta.list_hidden_for > 0:
                    meta.list_hidden_for -= 1  # eventual consistency: shows up after N lists
                    continue
                if meta.list_hidden_until > time.monotonic():  # ... or after some time
                    continue
                settings = self.state.jobs[job_id]
                if name is not None and str(settings.get("name", "")).lower() != name.lower():
                    continue
                visible.append(job_id)
            page = visible[start:start + limit]
            jobs = [self._base_job(job_id, expand, req.api_version) for job_id in page]
        out: dict[str, Any] = {"has_more": start + limit < len(visible)}
        if jobs:
            out["jobs"] = jobs
        if out["has_more"]:
            out["next_page_token"] = encode_token(start + limit)
        if start > 0:
            out["prev_page_token"] = encode_token(max(0, start - limit))
        return Response(body=out)

    def _base_job(self, job_id: int, expand: bool, api_version: str) -> dict[str, Any]:
        settings = _copy(self.state.jobs[job_id])
        meta = self.state.job_meta[job_id]
        base: dict[str, Any] = {"job_id": job_id, "creator_user_name": meta.creator_user_name,
                                "created_time": meta.created_time}
        if not expand:
            settings.pop("tasks", None)
            settings.pop("job_clusters", None)
        elif api_version != "2.1":
            more = False
            for name in PAGED_ARRAYS:
                if name in settings:
                    more = more or len(settings[name]) > PAGE_SIZE
                    settings[name] = settings[name][:PAGE_SIZE]
            base["has_more"] = more
        base["settings"] = settings
        return base

    # ---------------------------------------------------------------- permissions

    def get_permissions(self, req: Request) -> Response:
        job_id = parse_int(req.params["job_id"], "job_id")
        with self.state.lock:
            self.settings_of(job_id)
            return Response(body=self._permissions_body(job_id))

    def set_permissions(self, req: Request) -> Response:
        return self._change_permissions(req, replace=True)

    def update_permissions(self, req: Request) -> Response:
        return self._change_permissions(req, replace=False)

    def permission_levels(self, req: Request) -> Response:
        job_id = parse_int(req.params["job_id"], "job_id")
        with self.state.lock:
            self.settings_of(job_id)
        levels = [{"permission_level": k, "description": v} for k, v in PERMISSION_LEVELS.items()]
        return Response(body={"permission_levels": levels})

    def _change_permissions(self, req: Request, replace: bool) -> Response:
        job_id = parse_int(req.params["job_id"], "job_id")
        acl = self._check_acl(body_dict(req).get("access_control_list") or [])
        with self.state.lock:
            self.settings_of(job_id)
            self._apply_acl(job_id, acl, replace)
            return Response(body=self._permissions_body(job_id))

    @staticmethod
    def _check_acl(acl: Any) -> builtins.list[dict[str, str]]:
        if not isinstance(acl, list):
            raise ApiError(400, "MALFORMED_REQUEST", "Could not parse request object: access_control_list must be an array")
        out = []
        for entry in acl:
            principals = [k for k in _PRINCIPALS if (entry or {}).get(k)]
            if len(principals) != 1:
                raise invalid("Each access control entry needs exactly one of user_name, group_name and service_principal_name.")
            level = entry.get("permission_level")
            if level not in PERMISSION_LEVELS:
                raise invalid(f"Invalid permission level {level!r}. Supported levels: {', '.join(PERMISSION_LEVELS)}.")
            kind = principals[0]
            if level == "IS_OWNER" and kind == "group_name":
                raise invalid(f"Group {entry[kind]} cannot be the owner of a job; the owner must be a user or a service principal.")
            out.append({kind: entry[kind], "permission_level": level})
        if sum(1 for e in out if e["permission_level"] == "IS_OWNER") > 1:
            raise invalid("A job must have exactly one owner (IS_OWNER); the request names more than one.")
        return out

    def _apply_acl(self, job_id: int, acl: builtins.list[dict[str, str]], replace: bool) -> None:
        current = self.state.permissions.get(job_id, [])
        owner = next((e for e in current if e["permission_level"] == "IS_OWNER"), None)
        new_owner = next((e for e in acl if e["permission_level"] == "IS_OWNER"), None)
        if replace:
            grants = [e for e in acl if e["permission_level"] != "IS_OWNER"]
        else:
            touched = {_principal_of(e) for e in acl}
            grants = [e for e in current if e["permission_level"] != "IS_OWNER" and _principal_of(e) not in touched]
            grants += [e for e in acl if e["permission_level"] != "IS_OWNER"]
        # exactly one owner always: a request without IS_OWNER keeps the current owner
        final_owner = new_owner or owner
        if final_owner is not None:
            grants = [e for e in grants if _principal_of(e) != _principal_of(final_owner)]
            grants.insert(0, dict(final_owner))
        self.state.permissions[job_id] = grants

    def _permissions_body(self, job_id: int) -> dict[str, Any]:
        entries: dict[tuple[str, str], dict[str, Any]] = {}
        for grant in self.state.permissions.get(job_id, []):
            kind, name = _principal_of(grant)
            entry = entries.setdefault((kind, name), {kind: name, "all_permissions": []})
            entry["all_permissions"].append({"permission_level": grant["permission_level"], "inherited": False})
        acl = list(entries.values())
        acl.append({"group_name": "admins", "all_permissions": [
            {"permission_level": "CAN_MANAGE", "inherited": True, "inherited_from_object": ["/jobs/"]}]})
        return {"object_id": f"/jobs/{job_id}", "object_type": "job", "access_control_list": acl}


def _principal_of(entry: dict[str, str]) -> tuple[str, str]:
    for kind in _PRINCIPALS:
        if entry.get(kind):
            return kind, entry[kind]
    raise invalid("access control entry without a principal")


def _merge_by_key(current: list, updates: list, key: str) -> list:
    merged = [_copy(item) for item in current]
    index = {item.get(key): i for i, item in enumerate(merged) if isinstance(item, dict)}
    for item in updates:
        item = _copy(item)
        k = item.get(key) if isinstance(item, dict) else None
        if k is not None and k in index:
            merged[index[k]] = item
        else:
            index[k] = len(merged)
            merged.append(item)
    return merged


def _remove_field(settings: dict[str, Any], name: str) -> None:
    if "/" in name:
        array, key = name.split("/", 1)
        if array not in KEYED_ARRAYS:
            raise invalid(f"Invalid field in fields_to_remove: {name}. Only tasks, job_clusters and environments items can be removed by key.")
        items = settings.get(array) or []
        kept = [i for i in items if i.get(KEYED_ARRAYS[array]) != key]
        if len(kept) == len(items):
            raise invalid(f"Cannot remove {name}: no {KEYED_ARRAYS[array]} {key!r} in {array}.")
        settings[array] = kept
    else:
        settings.pop(name, None)
