"""FD605's persistent cache: reused while a module's content is unchanged (whatever its modification time, as on a
fresh checkout), recomputed on edit, off with FLOWDEF_NO_CACHE."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowdef.load import literals
from flowdef.load.literals import DuplicateKeyCache, duplicate_keys

DUP = 'params = {\n    "a": 1,\n    "a": 2,\n}\n'
CLEAN = 'params = {\n    "a": 1,\n    "b": 2,\n}\n'


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("FLOWDEF_NO_CACHE", raising=False)
    return tmp_path / "cache"


def _run(root: Path, path: Path) -> list[tuple[int, int, str]]:
    cache = DuplicateKeyCache(root)
    found = cache.duplicate_keys(path)
    cache.save()
    return [(d.location.line, d.location.column, d.code) for d in found if d.location]


def test_cached_result_equals_a_fresh_parse_and_skips_the_parse(cache_home, tmp_path, monkeypatch):
    mod = tmp_path / "m.py"
    mod.write_text(DUP)
    assert _run(tmp_path, mod) == [(3, 5, "FD605")]
    assert list((cache_home / "flowdef" / "literals").glob("*.json"))
    calls = []
    real = literals.duplicate_keys
    monkeypatch.setattr(literals, "duplicate_keys", lambda p, s=None: calls.append(p) or real(p, s))
    cache = DuplicateKeyCache(tmp_path)
    cached = cache.duplicate_keys(mod)
    assert calls == []  # served from the cache
    assert [(d.code, d.message, d.location) for d in cached] == [
        (d.code, d.message, d.location) for d in duplicate_keys(mod)]


def test_edit_invalidates(cache_home, tmp_path):
    mod = tmp_path / "m.py"
    mod.write_text(DUP)
    assert _run(tmp_path, mod) == [(3, 5, "FD605")]
    st = os.stat(mod)
    mod.write_text(CLEAN)  # same size: only the content tells
    os.utime(mod, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert _run(tmp_path, mod) == []
    mod.write_text(DUP + "x = {1: 0, 1.0: 2}\n")  # size changes too
    os.utime(mod, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000))
    assert _run(tmp_path, mod) == [(3, 5, "FD605"), (5, 12, "FD605")]


def test_a_fresh_checkout_with_the_cache_folder_restored_uses_it(cache_home, tmp_path, monkeypatch):
    mod = tmp_path / "m.py"
    mod.write_text(DUP)
    assert _run(tmp_path, mod) == [(3, 5, "FD605")]
    st = os.stat(mod)
    mod.write_text(DUP)  # the same content written again: a new modification time, as git checkout gives
    os.utime(mod, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    calls = []
    real = literals.duplicate_keys
    monkeypatch.setattr(literals, "duplicate_keys", lambda p, s=None: calls.append(p) or real(p, s))
    assert _run(tmp_path, mod) == [(3, 5, "FD605")] and calls == []


def test_other_flowdef_version_is_ignored(cache_home, tmp_path, monkeypatch):
    mod = tmp_path / "m.py"
    mod.write_text(DUP)
    _run(tmp_path, mod)
    monkeypatch.setattr(literals, "_version", lambda: "other")
    calls = []
    real = literals.duplicate_keys
    monkeypatch.setattr(literals, "duplicate_keys", lambda p, s=None: calls.append(p) or real(p, s))
    assert len(DuplicateKeyCache(tmp_path).duplicate_keys(mod)) == 1
    assert calls == [mod]


def test_no_cache_env_and_damaged_file(cache_home, tmp_path, monkeypatch):
    mod = tmp_path / "m.py"
    mod.write_text(DUP)
    monkeypatch.setenv("FLOWDEF_NO_CACHE", "1")
    assert _run(tmp_path, mod) == [(3, 5, "FD605")]
    assert not (cache_home / "flowdef" / "literals").exists()
    monkeypatch.delenv("FLOWDEF_NO_CACHE")
    _run(tmp_path, mod)
    for f in (cache_home / "flowdef" / "literals").glob("*.json"):
        f.write_text("{not json")
    assert _run(tmp_path, mod) == [(3, 5, "FD605")]


def test_modules_gone_from_the_project_are_dropped(cache_home, tmp_path):
    import json

    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text(DUP)
    b.write_text(CLEAN)
    cache = DuplicateKeyCache(tmp_path)
    cache.duplicate_keys(a)
    cache.duplicate_keys(b)
    cache.save()
    b.unlink()
    cache = DuplicateKeyCache(tmp_path)
    assert len(cache.duplicate_keys(a)) == 1
    cache.save()
    (stored,) = (cache_home / "flowdef" / "literals").glob("*.json")
    assert list(json.loads(stored.read_text())["files"]) == [str(a)]
