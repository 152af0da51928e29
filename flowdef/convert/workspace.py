"""Jobs read from a workspace for ``flowdef import JOB_ID ...`` / ``--all-unmanaged``, and ``--bind``.

Uses :class:`flowdef.deploy.client.Workspace` (the deploy commands' connection: unified auth, retries): its
``get_job`` follows ``jobs/get``'s ``next_page_token`` (Jobs API 2.2 returns ``tasks``, ``job_clusters``,
``environments`` and ``parameters`` 100 at a time) and merges the pages, so a 250-task job arrives whole.  The
SQL files the jobs' SQL tasks run are read too (``workspace/export``), to become templates of the project.
"""

from __future__ import annotations

from typing import Any

from flowdef.convert.importer import ImportError_, Source, without_server_defaults


def read_jobs(ws: Any, ids: list[int], *, all_unmanaged: bool = False) -> list[Source]:
    """The jobs ``ids`` and, with ``all_unmanaged``, every job no flowdef project manages (no identity tags)."""
    wanted = list(dict.fromkeys(ids))
    if all_unmanaged:
        for base in ws.list_jobs():
            tags = (base.get("settings") or {}).get("tags") or {}
            if not tags.get("flowdef_project") and base.get("job_id") not in wanted:
                wanted.append(base["job_id"])
    out = []
    for job_id in wanted:
        job = ws.get_job(job_id)
        if job is None:
            raise ImportError_(f"job {job_id} does not exist in {ws.host}")
        settings = without_server_defaults(job.get("settings") or {}, job.get("creator_user_name"))
        out.append(Source(settings, f"job {job_id}", job_id, sql=tuple(_sql_files(ws, settings))))
    return out


def _sql_files(ws: Any, settings: dict) -> list[tuple[str, str]]:
    found = []
    tasks = list(settings.get("tasks") or ())
    for t in list(tasks):
        nested = (t.get("for_each_task") or {}).get("task")
        if isinstance(nested, dict):
            tasks.append(nested)
    for t in tasks:
        file = (t.get("sql_task") or {}).get("file") or {}
        path = file.get("path")
        if isinstance(path, str) and file.get("source", "WORKSPACE") == "WORKSPACE":
            data = ws.read(path)
            if data is not None:
                found.append((path, data.decode("utf-8", errors="replace")))
    return found


def bind(ws: Any, job_id: int, *, project: str, target: str, key: str) -> None:
    """Tag the job with this project's identity (``jobs/update`` of its tags only): the next ``apply`` finds it
    by these tags and updates it, as it does every job it deployed."""
    job = ws.get_job(job_id) or {}
    tags = dict((job.get("settings") or {}).get("tags") or {})
    from flowdef.jobsapi.facts import JOB_TAG, PROJECT_TAG, TARGET_TAG

    tags.update({PROJECT_TAG: project, TARGET_TAG: target, JOB_TAG: key})
    ws.call("POST", "/api/2.2/jobs/update", body={"job_id": job_id, "new_settings": {"tags": tags}},
            idempotent=True)
