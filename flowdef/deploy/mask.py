"""Mask secret-looking values in what deploy prints: the workspace side of a plan can hold anything someone typed
into a job by hand (a token in a parameter, a password in a description), and plans end up in CI logs.

The same two signals as the validator's secret rules (:mod:`flowdef.validate.secrets`): a value that looks like a
credential is masked wherever it appears (only the matching part: ``"use dapi…"`` keeps its words), and a literal
value under a name that says it holds one (``password``, ``api_key``...) is masked whole.
"""

from __future__ import annotations

from typing import Any

from flowdef.validate import secrets

MASK = "***"


def mask_text(text: str) -> str:
    """``text`` with every credential-looking part replaced by ``***``."""
    if secrets.value_secret(text) is None:
        return text
    return secrets._VALUE.sub(MASK, text)


def mask(value: Any, name: str | None = None) -> Any:
    """A copy of ``value`` (JSON-like) with secret-looking strings masked; ``name`` is the key it sits under."""
    if isinstance(value, str):
        if name is not None and secrets.secret_name(name) and secrets.literal_value(value):
            return MASK
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        # parameters / base_parameters lists of {"name": ..., "default"/"value": ...}
        return [_mask_named(v) if isinstance(v, dict) and "name" in v else mask(v, name) for v in value]
    return value


def _mask_named(item: dict) -> dict:
    name = str(item.get("name", ""))
    return {k: (mask(v, name) if k in ("default", "value") else mask(v, str(k))) for k, v in item.items()}


def leaf_name(path: str) -> str:
    """The name a diff path ends with: ``tasks[a].notebook_task.base_parameters.password`` -> ``password``,
    ``parameters[api_key].default`` -> ``api_key``."""
    last = path.rsplit(".", 1)[-1]
    if last == "default" and "]" in path:
        return path.rsplit("[", 1)[-1].split("]", 1)[0]
    return last.split("[", 1)[-1].rstrip("]") if last.endswith("]") else last
