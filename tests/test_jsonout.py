"""The compiled files' JSON writer is json.dumps(indent=2, sort_keys=True, ensure_ascii=False), byte for byte."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from flowdef.compile.jsonout import dumps
from tests.conftest import ROOT


def _ref(obj: object) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False)


leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
values = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_same_text_as_json(obj):
    assert dumps(obj) == _ref(obj)


def test_edge_cases():
    for obj in [{}, [], {"a": {}}, {"a": []}, {"é": "\u2028\x00\"\\"}, [float("nan"), float("inf"), -float("inf")],
                {2: "x", 1: "y"}, {"x": (1, 2)}, {"b": 1, "a": [1, {"c": None}]}, True]:
        assert dumps(obj) == _ref(obj)


def test_what_json_rejects_is_rejected_as_json_does():
    import pytest

    with pytest.raises(TypeError) as mine:
        dumps({"a": object()})
    with pytest.raises(TypeError) as theirs:
        _ref({"a": object()})
    assert str(mine.value).split(" at 0x")[0] == str(theirs.value).split(" at 0x")[0]


def test_every_golden_file_round_trips_to_the_same_bytes():
    goldens = list((ROOT / "tests" / "golden").rglob("*.json"))
    assert goldens
    for path in goldens:
        text = path.read_text(encoding="utf-8")
        obj = json.loads(text)
        if _ref(obj) + "\n" == text:  # a file in the compiled format
            assert dumps(obj) + "\n" == text, path
