"""``json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False)``, the compiled files' format, made faster.

With ``indent`` set, the standard library falls back to its pure-Python generator encoder (the C encoder has no
indentation), and on a 500-job monorepo that was the largest single cost of ``flowdef compile``.  This writer
builds the same text with one recursive function appending to a list and the C string escaper for every string;
anything it does not handle exactly as :mod:`json` does (a non-string key, a type json would reject) is handed
to ``json.dumps`` itself, so the output — and any error — is json's, byte for byte (tests/test_jsonout.py).
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # the C escaper when available, as json.dumps(ensure_ascii=False)
from typing import Any

_INF = float("inf")


class _Unusual(Exception):
    """Something json.dumps should word itself."""


def dumps(obj: Any) -> str:
    out: list[str] = []
    try:
        _encode(obj, out, "\n")
    except (_Unusual, RecursionError):
        return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False)
    return "".join(out)


def _float(o: float) -> str:
    if o != o:
        return "NaN"
    if o == _INF:
        return "Infinity"
    if o == -_INF:
        return "-Infinity"
    return float.__repr__(o)


def _encode(o: Any, out: list[str], nl: str) -> None:
    # the order of the checks is json.encoder._iterencode's: str, the three constants, int, float, list, dict
    if isinstance(o, str):
        out.append(encode_basestring(o))
    elif o is None:
        out.append("null")
    elif o is True:
        out.append("true")
    elif o is False:
        out.append("false")
    elif isinstance(o, int):
        out.append(int.__repr__(o))
    elif isinstance(o, float):
        out.append(_float(o))
    elif isinstance(o, (list, tuple)):
        if not o:
            out.append("[]")
            return
        inner = nl + "  "
        sep = "," + inner
        out.append("[" + inner)
        first = True
        for value in o:
            if not first:
                out.append(sep)
            first = False
            _encode(value, out, inner)
        out.append(nl + "]")
    elif isinstance(o, dict):
        if not o:
            out.append("{}")
            return
        inner = nl + "  "
        sep = "," + inner
        out.append("{" + inner)
        first = True
        for key, value in sorted(o.items()):
            if not isinstance(key, str):  # json converts int/float/bool/None keys; leave that to it
                raise _Unusual
            if not first:
                out.append(sep)
            first = False
            out.append(encode_basestring(key))
            out.append(": ")
            _encode(value, out, inner)
        out.append(nl + "}")
    else:
        raise _Unusual
