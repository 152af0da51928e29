"""The compiled files' text (``compiler.to_json``, written by orjson) is
``json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False)`` plus a newline, byte for byte, floats with an
exponent aside (orjson: ``1e-7``, json: ``1e-07``); the golden files are in that format."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowdef.compile.compiler import to_json
from tests.conftest import ROOT


def _ref(obj: object) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Name(str):
    """A str subclass, as typed references are (orjson refuses one as a key: json writes that payload)."""


# everything but floats; integers beyond 64 bits and str-subclass keys and values take json's own path
leaves = st.none() | st.booleans() | st.integers() | st.text() | st.text(max_size=5).map(Name)
keys = st.text(max_size=5) | st.text(max_size=3).map(Name)
values = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.dictionaries(keys, children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(values)
def test_same_text_as_json(obj):
    assert to_json(obj) == _ref(obj)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_round_trip_and_read_as_json_writes_them_without_an_exponent(x):
    text = to_json({"v": x})
    assert json.loads(text)["v"] == x
    if "e" not in repr(x):
        assert text == _ref({"v": x})


def test_edge_cases():
    for obj in [{}, [], {"a": {}}, {"a": []}, {"é": "\u2028\x00\x1f\x7f\"\\\n\t"}, {"x": (1, 2)},
                {"b": 1, "a": [1, {"c": None}]}, True, {"big": 2**70}, {"neg": -2**63}, {Name("k"): Name("v")},
                {"z": 1, "Z": 2, "é": 3, "e": 4, "\U0001f600": 5, "\uffff": 6}]:
        assert to_json(obj) == _ref(obj), obj


def test_what_json_rejects_is_still_rejected():
    with pytest.raises(TypeError):
        to_json({"a": object()})


def test_every_golden_file_is_written_to_the_same_bytes():
    goldens = list((ROOT / "tests" / "golden").rglob("*.json"))
    assert goldens
    compiled_format = 0
    for path in goldens:
        text = path.read_text(encoding="utf-8")
        obj = json.loads(text)
        if _ref(obj) == text:  # a file in the compiled format
            compiled_format += 1
            assert to_json(obj) == text, path
    assert compiled_format >= len(goldens) // 2


def test_raw_values_must_be_json_without_nan_or_infinity():
    from flowdef import Job
    from flowdef.errors import DefinitionError

    job = Job("j")
    with pytest.raises(DefinitionError, match="must be JSON"):
        job.raw_task("t", {"notebook_task": {"notebook_path": "/x"}, "timeout_seconds": float("nan")})
