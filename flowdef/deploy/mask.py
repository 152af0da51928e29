"""Mask secret-looking values in what deploy prints: the workspace side of a plan can hold anything someone typed
into a job by hand (a token in a parameter, a password in a description), and plans end up in CI logs.

The same two signals as the validator's secret rules (:mod:`flowdef.validate.secrets`): a value that looks like a
credential is masked wherever it appears (only the matching part: ``"use dapi…"`` keeps its words), and a literal
value under a name that says it holds one (``password``, ``api_key``...) is masked whole.
"""

from __future__ import annotations

import re
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


# A value quoted in free text under a name: ``"password": "x"``, ``password='x'``, ``api_key: x`` - what a service's
# error message looks like when it echoes the request ("Invalid value for field "password": ..."), and the
# ``{"name": "api_key", "default": "x"}`` items of a parameters list echoed as JSON.
_NAMED = re.compile(r"""(?P<q>["']?)(?P<name>[A-Za-z_][\w.\-]*)(?P=q)\s*[:=]\s*"""
                    r"""(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s,;&)}\]]+)""")
_ITEM = re.compile(r"""["']name["']\s*:\s*["'](?P<name>[^"']+)["']\s*,\s*["'](?:default|value)["']\s*:\s*"""
                   r"""(?P<value>"(?:[^"\\]|\\.)*"|'[^']*')""")


def mask_message(text: str) -> str:
    """An error message or progress line (often the service's own words, echoing what was sent) with every
    credential-looking value and every literal value quoted under a secret name (``password``, ``api_key``...)
    replaced by ``***``."""
    text = mask_text(text)
    if ":" not in text and "=" not in text:
        return text

    def named(m: re.Match) -> str:
        value = m.group("value")
        bare = value[1:-1] if value[:1] in "\"'" else value
        if not (secrets.secret_name(m.group("name")) and secrets.literal_value(bare)) or bare == MASK:
            return m.group(0)
        quote = value[0] if value[:1] in "\"'" else ""
        start = m.start("value") - m.start(0)
        return m.group(0)[:start] + f"{quote}{MASK}{quote}"

    return _NAMED.sub(named, _ITEM.sub(named, text))
