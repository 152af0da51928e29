"""The ``dbutils`` and ``display`` a local task gets: the parts Databricks jobs use, with Databricks' rules.

- ``dbutils.widgets``: ``get``/``getArgument``/``getAll`` read the task's parameters (notebook base parameters,
  pushed-down job parameters); ``text``/``dropdown``/``combobox``/``multiselect`` declare a widget whose
  default is used when no parameter of that name was passed.  An undefined widget fails like on Databricks.
- ``dbutils.jobs.taskValues``: ``set(key, value)`` (JSON-serialisable, at most 48 KiB once encoded) and
  ``get(taskKey, key, default=, debugValue=)`` over the values upstream tasks set in this run.
- ``dbutils.fs``: ``ls``/``head``/``put``/``cp``/``mv``/``rm``/``mkdirs`` on ``/Volumes/...`` (mapped folders).
- ``dbutils.notebook.exit(value)``: ends the task successfully with ``value`` as its notebook output.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from typing import Any

from flowdef.local.workspace import LocalWorkspace
from flowdef.runtime import json_task_value

class NotebookExit(BaseException):
    """Raised by ``dbutils.notebook.exit``: a BaseException so user ``except Exception`` blocks don't eat it."""

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


class Widgets:
    def __init__(self, params: dict[str, str]) -> None:
        self._params = dict(params)
        self._defaults: dict[str, str] = {}

    def get(self, name: str) -> str:
        if name in self._params:
            return self._params[name]
        if name in self._defaults:
            return self._defaults[name]
        raise ValueError(f"InputWidgetNotDefined: No input widget named {name} is defined")

    def getArgument(self, name: str, defaultValue: str | None = None) -> str | None:
        try:
            return self.get(name)
        except ValueError:
            return defaultValue

    def getAll(self) -> dict[str, str]:
        return {**self._defaults, **self._params}

    def _declare(self, name: str, defaultValue: str, *args: Any, **kwargs: Any) -> None:
        self._defaults[name] = defaultValue

    text = dropdown = combobox = multiselect = _declare

    def remove(self, name: str) -> None:
        self._defaults.pop(name, None)

    def removeAll(self) -> None:
        self._defaults.clear()


class TaskValues:
    def __init__(self, upstream: dict[str, dict[str, Any]]) -> None:
        self._upstream = upstream
        self.values: dict[str, Any] = {}

    def set(self, key: str, value: Any) -> None:
        self.values[key] = json.loads(json_task_value(key, value))

    def get(self, taskKey: str, key: str, default: Any = None, debugValue: Any = None) -> Any:
        values = self._upstream.get(taskKey)
        if values is not None and key in values:
            return values[key]
        if default is not None:
            return default
        if values is None:
            raise ValueError(f"Could not find task {taskKey!r} among this run's tasks that set task values")
        raise TypeError(f"Task value {key!r} was not set by task {taskKey!r} and no default was given")


class _Jobs:
    def __init__(self, task_values: TaskValues) -> None:
        self.taskValues = task_values


class _Notebook:
    def exit(self, value: Any) -> None:
        raise NotebookExit("" if value is None else str(value))


@dataclass
class FileInfo:
    path: str
    name: str
    size: int
    modificationTime: int


class Fs:
    def __init__(self, workspace: LocalWorkspace) -> None:
        self._ws = workspace

    def _local(self, path: str) -> str:
        return self._ws.local_path(path)

    def _remote(self, local: str, original: str) -> str:
        rel = os.path.relpath(local, self._ws.volumes_dir)
        prefix = "dbfs:/Volumes/" if original.startswith("dbfs:") else "/Volumes/"
        return prefix + rel.replace(os.sep, "/")

    def ls(self, path: str) -> list[FileInfo]:
        local = self._local(path)
        if not os.path.exists(local):
            raise FileNotFoundError(f"java.io.FileNotFoundException: {path} does not exist")
        entries = [local] if os.path.isfile(local) else [os.path.join(local, n) for n in sorted(os.listdir(local))]
        out = []
        for e in entries:
            st = os.stat(e)
            name = os.path.basename(e) + ("/" if os.path.isdir(e) else "")
            out.append(FileInfo(self._remote(e, path) + ("/" if os.path.isdir(e) else ""), name,
                                0 if os.path.isdir(e) else st.st_size, int(st.st_mtime * 1000)))
        return out

    def head(self, path: str, maxBytes: int = 65536) -> str:
        with open(self._local(path), "rb") as fh:
            return fh.read(maxBytes).decode("utf-8", errors="replace")

    def put(self, path: str, contents: str, overwrite: bool = False) -> bool:
        local = self._local(path)
        if os.path.exists(local) and not overwrite:
            raise FileExistsError(f"{path} already exists; pass overwrite=True")
        os.makedirs(os.path.dirname(local), exist_ok=True)
        with open(local, "w", encoding="utf-8") as fh:
            fh.write(contents)
        return True

    def mkdirs(self, path: str) -> bool:
        os.makedirs(self._local(path), exist_ok=True)
        return True

    def cp(self, src: str, dst: str, recurse: bool = False) -> bool:
        a, b = self._local(src), self._local(dst)
        if os.path.isdir(a):
            if not recurse:
                raise IsADirectoryError(f"{src} is a directory; pass recurse=True")
            shutil.copytree(a, b, dirs_exist_ok=True)
        else:
            os.makedirs(os.path.dirname(b), exist_ok=True)
            shutil.copy2(a, b)
        return True

    def mv(self, src: str, dst: str, recurse: bool = False) -> bool:
        b = self._local(dst)
        os.makedirs(os.path.dirname(b), exist_ok=True)
        shutil.move(self._local(src), b)
        return True

    def rm(self, path: str, recurse: bool = False) -> bool:
        local = self._local(path)
        if not os.path.exists(local):
            return False
        if os.path.isdir(local):
            if not recurse:
                raise IsADirectoryError(f"{path} is a directory; pass recurse=True")
            shutil.rmtree(local)
        else:
            os.remove(local)
        return True


class DBUtils:
    def __init__(self, workspace: LocalWorkspace, params: dict[str, str], upstream: dict[str, dict[str, Any]]) -> None:
        self.widgets = Widgets(params)
        self.jobs = _Jobs(TaskValues(upstream))
        self.fs = Fs(workspace)
        self.notebook = _Notebook()

    @property
    def task_values(self) -> dict[str, Any]:
        return self.jobs.taskValues.values


class Display:
    """``display(x)``: a DataFrame's rows become the task's output (and are printed); anything else is printed."""

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.rows: list[list[Any]] = []

    def __call__(self, obj: Any, *args: Any, **kwargs: Any) -> None:
        if hasattr(obj, "collect") and hasattr(obj, "columns"):
            rows = obj.limit(1000).collect() if hasattr(obj, "limit") else obj.collect()
            self.columns = list(obj.columns)
            self.rows = [list(r) for r in rows]
            obj.show(20, truncate=False) if hasattr(obj, "show") else print(rows)
        else:
            print(obj)
