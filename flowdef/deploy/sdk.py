"""Load only the part of databricks-sdk that deploy uses: ``config``, ``core`` (``ApiClient``) and ``errors``.

``import databricks.sdk.config`` first runs the package's ``__init__``, which imports *every* service module
(jobs, catalog, compute, ml, ... - about 1.06 s of the 1.25 s a cold ``apply`` used to spend on imports, measured
with ``python -X importtime`` on databricks-sdk 0.167).  Deploy talks to the REST API through ``ApiClient.do``
with plain dicts and needs none of them.  So, unless something imported the SDK already, the package module is
registered *without running* its ``__init__`` (``config`` + ``core`` + ``errors`` then cost ~0.18 s), with a
module ``__getattr__`` that runs the real ``__init__`` the first time anything else asks the package for a name
it does not have yet (``from databricks.sdk import WorkspaceClient`` keeps working in the same process: the
package is then completed in place).  Submodules load as usual.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
from types import ModuleType

_lock = threading.RLock()


def _light_package() -> None:
    if "databricks.sdk" in sys.modules:
        return
    spec = importlib.util.find_spec("databricks.sdk")
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        raise ImportError("databricks.sdk")
    module = importlib.util.module_from_spec(spec)
    folder = list(spec.submodule_search_locations)[0]
    state = {"complete": False}

    def __getattr__(name: str):  # noqa: N807 - the module-level hook of PEP 562
        if name.startswith("__"):
            raise AttributeError(name)
        if os.path.exists(os.path.join(folder, name + ".py")) or os.path.isdir(os.path.join(folder, name)):
            return importlib.import_module(f"databricks.sdk.{name}")
        with _lock:
            if not state["complete"]:
                state["complete"] = True
                assert spec.loader is not None
                spec.loader.exec_module(module)  # the real __init__, run into this same module object
        try:
            return module.__dict__[name]
        except KeyError:
            raise AttributeError(f"module 'databricks.sdk' has no attribute {name!r}") from None

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules["databricks.sdk"] = module
    parent = sys.modules.get("databricks")
    if parent is not None:
        parent.sdk = module  # type: ignore[attr-defined]


def load() -> tuple[type, type, ModuleType]:
    """``(Config, ApiClient, databricks.sdk.errors)``; ImportError when databricks-sdk is not installed."""
    with _lock:
        _light_package()
        from databricks.sdk import errors
        from databricks.sdk.config import Config
        from databricks.sdk.core import ApiClient

    return Config, ApiClient, errors
