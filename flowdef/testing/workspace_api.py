"""Workspace API 2.0 (files, notebooks, directories) and SCIM ``Me`` of the fake workspace.

Import rules (``POST /api/2.0/workspace/import``, JSON with base64 ``content`` or the multipart form
``w.workspace.upload`` sends - fields ``path``, ``format``, ``language``, ``overwrite="true"`` and a
file part ``content``):

* ``format`` absent or ``SOURCE``: needs ``language`` (the SDK's ``upload`` infers it from
  ``.py``/``.sql``/``.scala``/``.R``) and creates a **NOTEBOOK at exactly the given path** (the
  extension is kept - the SDK's own integration test uploads ``notebook-x.py`` and downloads that same
  path); without ``language`` the request is rejected with 400 INVALID_PARAMETER_VALUE.
* ``AUTO``: a NOTEBOOK when the content starts with the notebook header (``# Databricks notebook
  source``, ``-- Databricks notebook source``, ``// Databricks notebook source``) and the extension is
  a known source extension - the extension is then stripped from the path; otherwise a FILE.
* ``RAW``: always a FILE.  ``HTML``/``JUPYTER``/``DBC``/``R_MARKDOWN`` are not simulated (400).
* The parent directory must exist: 404 RESOURCE_DOES_NOT_EXIST "The parent folder (/x) does not
  exist." (verified wording; the service does not create parents on import - use ``mkdirs``).
* An existing object and ``overwrite`` false: 400 RESOURCE_ALREADY_EXISTS.

Paths are absolute; a leading ``/Workspace`` is accepted and dropped (``/Workspace/Users/a`` and
``/Users/a`` are the same object, reported without the prefix).  Stored notebook content excludes the
header line; ``SOURCE`` export puts it back (``# Databricks notebook source\\n`` + source).
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from typing import Any

from flowdef.testing._wire import Request, Response, body_dict, opt_bool
from flowdef.testing.state import (
    ApiError,
    WorkspaceObject,
    WorkspaceState,
    invalid,
    now_ms,
)

__all__ = ["NOTEBOOK_HEADERS", "WorkspaceApi"]

_LANG_BY_EXT = {".py": "PYTHON", ".sql": "SQL", ".scala": "SCALA", ".r": "R"}
NOTEBOOK_HEADERS = {
    "PYTHON": b"# Databricks notebook source",
    "SQL": b"-- Databricks notebook source",
    "SCALA": b"// Databricks notebook source",
    "R": b"# Databricks notebook source",
}
_EXPORT_EXT = {"PYTHON": "py", "SQL": "sql", "SCALA": "scala", "R": "r"}
_LANGUAGES = ("PYTHON", "SQL", "SCALA", "R")


def _not_found(path: str) -> ApiError:
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")


def normalize(path: Any) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise invalid(f"Path ({path}) is not an absolute path.")
    norm = posixpath.normpath(path)
    if norm == "/Workspace" or norm.startswith("/Workspace/"):
        norm = norm[len("/Workspace"):] or "/"
    return norm


def _strip_header(content: bytes, language: str) -> bytes:
    header = NOTEBOOK_HEADERS.get(language, b"")
    if header and content.startswith(header):
        return content[len(header):].lstrip(b"\r").lstrip(b"\n")
    return content


class WorkspaceApi:
    def __init__(self, state: WorkspaceState) -> None:
        self.state = state

    # ------------------------------------------------------------- tree helpers (lock held)

    def _parent_must_be_dir(self, path: str) -> None:
        parent = posixpath.dirname(path)
        obj = self.state.files.get(parent)
        if obj is None:
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"The parent folder ({parent}) does not exist.")
        if obj.object_type != "DIRECTORY":
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({parent}) already exists and is not a directory.")

    def mkdirs_path(self, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        current = ""
        for part in parts:
            current = f"{current}/{part}"
            obj = self.state.files.get(current)
            if obj is None:
                self.state.files[current] = WorkspaceObject(current, "DIRECTORY", self.state.next_object_id())
            elif obj.object_type != "DIRECTORY":
                raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({current}) already exists.")

    def put_object(self, path: str, content: bytes, fmt: str | None, language: str | None, overwrite: bool) -> WorkspaceObject:
        """Store an import; returns the object (caller holds the lock)."""
        fmt = (fmt or "SOURCE").upper()
        if language is not None and language not in _LANGUAGES:
            raise invalid(f"Invalid language {language!r}. Supported languages: {', '.join(_LANGUAGES)}.")
        ext = posixpath.splitext(path)[1].lower()
        if fmt == "SOURCE":
            if not language:
                raise invalid("The language field is required to import a single file with format SOURCE; "
                              "use format AUTO or RAW to import a workspace file.")
            kind, content = "NOTEBOOK", _strip_header(content, language)
        elif fmt == "AUTO":
            guessed = language or _LANG_BY_EXT.get(ext)
            header = NOTEBOOK_HEADERS.get(guessed or "", None)
            if ext in _LANG_BY_EXT and header is not None and content.startswith(header):
                kind, language, content = "NOTEBOOK", guessed, _strip_header(content, guessed or "")
                path = path[: -len(ext)]
            else:
                kind, language = "FILE", None
        elif fmt == "RAW":
            kind, language = "FILE", None
        else:
            raise invalid(f"Import format {fmt} is not supported by the fake workspace (use SOURCE, AUTO or RAW).")
        self._parent_must_be_dir(path)
        existing = self.state.files.get(path)
        if existing is not None:
            if existing.object_type == "DIRECTORY" or not overwrite:
                raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({path}) already exists.")
            existing.object_type, existing.content, existing.language = kind, content, language
            existing.modified_at = now_ms()
            return existing
        obj = WorkspaceObject(path, kind, self.state.next_object_id(), content, language if kind == "NOTEBOOK" else None)
        self.state.files[path] = obj
        return obj

    def _get(self, path: str) -> WorkspaceObject:
        obj = self.state.files.get(path)
        if obj is None:
            raise _not_found(path)
        return obj

    def _children(self, path: str) -> list[WorkspaceObject]:
        prefix = path.rstrip("/") + "/"
        return [o for p, o in sorted(self.state.files.items())
                if p != path and p.startswith(prefix) and "/" not in p[len(prefix):]]

    # ------------------------------------------------------------- endpoints

    def mkdirs(self, req: Request) -> Response:
        path = normalize(body_dict(req).get("path"))
        with self.state.lock:
            self.mkdirs_path(path)
        return Response(body={})

    def import_(self, req: Request) -> Response:
        body = body_dict(req)
        path = normalize(body.get("path"))
        raw = body.get("content", b"")
        if isinstance(raw, str):  # JSON form: base64
            try:
                content = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise invalid("The content field is not valid base64.") from None
        else:
            content = bytes(raw or b"")
        if len(content) > 10 * 1024 * 1024:
            raise ApiError(400, "MAX_NOTEBOOK_SIZE_EXCEEDED", f"File size imported is ({len(content)} bytes), exceeded max size (10485760 bytes)")
        with self.state.lock:
            self.put_object(path, content, body.get("format"), body.get("language"), opt_bool(body, "overwrite"))
        return Response(body={})

    def get_status(self, req: Request) -> Response:
        path = normalize(req.query.get("path"))
        with self.state.lock:
            return Response(body=self._get(path).info())

    def list(self, req: Request) -> Response:
        path = normalize(req.query.get("path"))
        with self.state.lock:
            obj = self._get(path)
            objects = [obj] if obj.object_type != "DIRECTORY" else self._children(path)
            after = req.query.get("notebooks_modified_after")
            if after:
                objects = [o for o in objects if o.object_type != "NOTEBOOK" or o.modified_at > int(after)]
            infos = [o.info() for o in objects]
        return Response(body={"objects": infos} if infos else {})

    def export(self, req: Request) -> Response:
        path = normalize(req.query.get("path"))
        fmt = (req.query.get("format") or "SOURCE").upper()
        with self.state.lock:
            obj = self._get(path)
            if obj.object_type == "DIRECTORY":
                raise invalid(f"Exporting directories is not supported by the fake workspace: {path}")
            if fmt not in ("SOURCE", "AUTO", "RAW"):
                raise invalid(f"Export format {fmt} is not supported by the fake workspace (use SOURCE, AUTO or RAW).")
            if obj.object_type == "NOTEBOOK" and fmt == "RAW":
                raise invalid("RAW export is only supported for workspace files, not notebooks.")
            if obj.object_type == "NOTEBOOK":
                content = NOTEBOOK_HEADERS[obj.language or "PYTHON"] + b"\n" + obj.content
                file_type = _EXPORT_EXT.get(obj.language or "PYTHON", "py")
            else:
                content = obj.content
                file_type = posixpath.splitext(path)[1].lstrip(".")
        if opt_bool(req.query, "direct_download"):
            return Response(body=content, content_type="application/octet-stream")
        return Response(body={"content": base64.b64encode(content).decode("ascii"), "file_type": file_type})

    def delete(self, req: Request) -> Response:
        body = body_dict(req)
        path = normalize(body.get("path"))
        recursive = opt_bool(body, "recursive")
        with self.state.lock:
            obj = self._get(path)
            if path == "/":
                raise invalid("Cannot delete the workspace root.")
            if obj.object_type == "DIRECTORY":
                prefix = path + "/"
                inside = [p for p in self.state.files if p.startswith(prefix)]
                if inside and not recursive:
                    raise ApiError(400, "DIRECTORY_NOT_EMPTY", f"Folder ({path}) is not empty.")
                for p in inside:
                    del self.state.files[p]
            del self.state.files[path]
        return Response(body={})

    def me(self, req: Request) -> Response:
        user = self.state.user_name
        return Response(body={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "1000000000000001",
            "userName": user,
            "displayName": user.split("@")[0].replace(".", " ").title(),
            "active": True,
            "emails": [{"value": user, "type": "work", "primary": True}],
            "groups": [{"display": "admins", "value": "2000000000000001", "type": "direct"},
                       {"display": "users", "value": "2000000000000002", "type": "direct"}],
            "entitlements": [{"value": "workspace-access"}, {"value": "allow-cluster-create"}],
        })
