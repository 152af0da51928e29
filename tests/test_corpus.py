"""The bad-input corpus: each ``tests/fixtures/bad/FD*.py`` is a tiny pipeline module with ONE problem, and its
header says exactly which diagnostics ``flowdef validate`` must report::

    # expect: FD103 @ 7                          code @ line in this file
    # expect: FD402 @ sql_templates/x.sql:3      code @ file:line (relative to the fixture folder)
    # target: nowarehouse                        validate against this target of the fixture flowdef.toml
    # config: cfg/x.toml                         with this project config instead of flowdef.toml
    # says: must be True or False                words one of the reported messages must contain
    # requires: flowdef.quartz.parse             skip while that module (or name in it) does not exist

Each fixture runs through the real CLI (``flowdef validate PATH --format json``) and the (code, file, line) set
must equal the header's — no more, no less: the fixture proves its rule fires where it should, and that no other
rule misfires on it.  ``tests/fixtures/good/`` holds valid pipelines that must validate with no diagnostic at all
and compile to payloads the SDK round-trips losslessly.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from flowdef.cli import main
from flowdef.diagnostics import CODES
from tests.conftest import FIXTURES

BAD = FIXTURES / "bad"
GOOD = FIXTURES / "good"

_EXPECT = re.compile(r"^#\s*expect:\s*(FD\d{3})\s*@\s*(?:(\S+):)?(\d+)\s*$")
_TARGET = re.compile(r"^#\s*target:\s*(\S+)\s*$")
_REQUIRES = re.compile(r"^#\s*requires:\s*(\S+)\s*$")
_CONFIG = re.compile(r"^#\s*config:\s*(\S+)\s*$")
_SAYS = re.compile(r"^#\s*says:\s*(.+?)\s*$")

BAD_FIXTURES = sorted(BAD.glob("FD*.py"))
GOOD_FIXTURES = sorted(p for p in GOOD.glob("*.py") if not p.name.startswith("_"))


class Header(tuple):
    """(expected, target, requires) plus ``config``: a fixture's leading comments."""

    config: str = "flowdef.toml"
    says: tuple[str, ...] = ()


def header(path: Path) -> Header:
    """(expected (code, file, line) set, target, required modules) from a fixture's leading comments; the
    config file is ``.config``."""
    expected: set[tuple[str, str, int]] = set()
    target = None
    requires = []
    config = "flowdef.toml"
    says = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if m := _EXPECT.match(line):
            expected.add((m.group(1), m.group(2) or path.name, int(m.group(3))))
        elif m := _TARGET.match(line):
            target = m.group(1)
        elif m := _REQUIRES.match(line):
            requires.append(m.group(1))
        elif m := _CONFIG.match(line):
            config = m.group(1)
        elif m := _SAYS.match(line):
            says.append(m.group(1))
        elif line.startswith("# expect"):
            raise AssertionError(f"{path.name}: malformed expectation {line!r}")
    result = Header((expected, target, requires))
    result.config = config
    result.says = tuple(says)
    return result


def validate(paths: list[Path], base: Path, target: str | None, capsys,
             config: str = "flowdef.toml") -> tuple[int, list[dict]]:
    argv = ["--config", str(base / config), "validate", *map(str, paths), "--format", "json"]
    if target:
        argv += ["-t", target]
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out)


def found_set(diags: list[dict], base: Path) -> set[tuple[str, str, int]]:
    found = set()
    for d in diags:
        file = Path(d["file"]).resolve() if d["file"] else None
        rel = file.relative_to(base).as_posix() if file is not None and base in file.parents else str(file)
        found.add((d["code"], rel, d["line"]))
    return found


def _available(name: str) -> bool:
    """``pkg.module`` or ``pkg.module.attribute`` can be imported (a module other work is still writing)."""
    try:
        importlib.import_module(name)
        return True
    except ImportError:
        pass
    module, _, attribute = name.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), attribute)
    except ImportError:
        return False


def _skip_unless(requires: list[str]) -> None:
    for name in requires:
        if not _available(name):
            pytest.skip(f"{name} is not available yet")


def test_the_corpus_is_large_enough():
    assert len(BAD_FIXTURES) >= 60


@pytest.mark.parametrize("fixture", BAD_FIXTURES, ids=lambda p: p.stem)
def test_bad_fixture_reports_exactly_its_problem(fixture: Path, capsys):
    head = header(fixture)
    expected, target, requires = head
    assert expected, f"{fixture.name} declares no '# expect: CODE @ LINE'"
    code_prefix = fixture.name.split("_", 1)[0]
    assert code_prefix in {c for c, _, _ in expected}, f"{fixture.name} does not expect its own code {code_prefix}"
    _skip_unless(requires)
    status, diags = validate([fixture], BAD, target, capsys, head.config)
    found = found_set(diags, BAD.resolve())
    assert found == expected, "\n".join(f"{d['code']} {d['line']}: {d['message']}" for d in diags)
    errors = [d for d in diags if d["severity"] == "error"]
    assert status == (1 if errors else 0)
    for d in diags:  # every diagnostic carries a fix-it message and its code's documented name
        assert d["name"] == CODES[d["code"]][0]
        assert len(d["message"]) > 30
    messages = "\n".join(d["message"] for d in diags)
    for words in head.says:  # the message says what is wrong in the fixture's words
        assert words in messages, f"{fixture.name}: no message says {words!r}:\n{messages}"


def test_a_broken_module_does_not_hide_the_others(capsys):
    broken, fine = BAD / "FD001_raises_at_import.py", BAD / "FD103_unknown_dependency.py"
    status, diags = validate([broken, fine], BAD, None, capsys)
    assert status == 1
    assert {(d["code"], Path(d["file"]).name) for d in diags} == {
        ("FD001", broken.name), ("FD103", fine.name),
    }


def test_the_whole_corpus_at_once_is_the_union_of_its_fixtures(capsys):
    """All default-target fixtures in one run: the same diagnostics as one by one (no cross-talk, since every
    fixture's job has its own name)."""
    chosen, expected = [], set()
    for fixture in BAD_FIXTURES:
        head = header(fixture)
        exp, target, requires = head
        if target or head.config != "flowdef.toml" or not all(_available(m) for m in requires):
            continue
        chosen.append(fixture)
        expected |= exp
    _, diags = validate(chosen, BAD, None, capsys)
    assert found_set(diags, BAD.resolve()) == expected


# Codes proven by a fixture: those of the loader, graph, reference, trigger, SQL and job-limit rules (the task-kind,
# settings and compute rules FD504/FD505/FD507+ have their own fixtures, tests/fixtures/kinds).  Exceptions are
# listed with their reason, so a new code of these families without a fixture fails.
_NO_FIXTURE = {
    "FD002": "no-jobs is reported by commands that need jobs, not by validate",
    "FD207": "job parameters are a dict: a duplicate cannot be declared",
}
_NEEDS_CONTROL_FLOW = {"FD110", "FD111", "FD112", "FD113", "FD211"}  # condition / for-each tasks


def _corpus_family(code: str) -> bool:
    number = int(code[2:])
    return number < 500 or number in (501, 502, 503, 506)


def test_every_code_has_a_fixture():
    covered = {p.name.split("_", 1)[0] for p in BAD_FIXTURES}
    missing = {c for c in CODES if _corpus_family(c)} - covered - set(_NO_FIXTURE)
    if not _control_flow_dsl():
        missing -= _NEEDS_CONTROL_FLOW
    assert not missing, f"codes without a bad fixture: {sorted(missing)}"


def _control_flow_dsl() -> bool:
    from flowdef import Job

    return hasattr(Job, "condition") and hasattr(Job, "for_each")


# ----------------------------------------------------------------------------------------------------------------
# good fixtures


def test_good_fixtures_validate_clean(capsys):
    status, diags = validate(GOOD_FIXTURES, GOOD, None, capsys)
    assert diags == []
    assert status == 0


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_good_fixtures_compile_and_round_trip_through_the_sdk(target):
    from databricks.sdk.service.jobs import JobSettings

    from flowdef.compile.compiler import compile_job
    from flowdef.load.config import load_config
    from flowdef.load.loader import load

    config = load_config(path=GOOD / "flowdef.toml")
    project = load(config, [str(p) for p in GOOD_FIXTURES])
    assert not project.diagnostics
    assert len(project.jobs) >= len(GOOD_FIXTURES)
    for job in project.jobs:
        payload = compile_job(job, config.target(target), config).payload
        assert JobSettings.from_dict(payload).as_dict() == payload, job.key
