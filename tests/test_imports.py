"""Heavy dependencies stay at the edges: measured in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("networkx", "jinja2", "databricks", "duckdb", "sqlglot", "sqlframe", "pyspark")


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_flowdef_is_light():
    loaded = _loaded_after("import flowdef")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_loading_the_examples_is_light():
    loaded = _loaded_after(
        "from flowdef.load.config import load_config\nfrom flowdef.load.loader import load\nload(load_config())"
    )
    assert not loaded & set(HEAVY)


def test_validate_does_not_import_the_sdk():
    loaded = _loaded_after("from flowdef.cli import main\nassert main(['validate']) == 0")
    assert "databricks" not in loaded
    assert {"networkx", "jinja2"} <= loaded  # graph checks and SQL templates did run


def test_compile_does_not_import_the_sdk():
    loaded = _loaded_after(
        "import tempfile\nfrom flowdef.cli import main\nassert main(['compile', '--out', tempfile.mkdtemp()]) == 0"
    )
    assert "databricks" not in loaded


def test_validate_imports_only_its_own_command_module():
    probe = ("from flowdef.cli import main\nassert main(['validate']) == 0\nimport json, sys\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith('flowdef.cli.'))))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    commands = {m.rsplit(".", 1)[1] for m in json.loads(out.stdout.strip().splitlines()[-1])}
    assert "validate" in commands
    assert not commands & {"apply", "plan", "destroy", "run", "repair", "export", "import_jobs", "logs", "compile"}


def test_validate_does_not_import_unneeded_helpers():
    # uuid: deploy and run ids only
    loaded = _loaded_after("from flowdef.cli import main\nassert main(['validate']) == 0")
    assert "uuid" not in loaded


def test_loading_does_not_import_hashlib():
    # the FD605 cache names its file with zlib's crc32 (hashlib alone costs ~3 ms; networkx brings it later)
    loaded = _loaded_after(
        "from flowdef.load.config import load_config\nfrom flowdef.load.loader import load\nload(load_config())"
    )
    assert "hashlib" not in loaded
