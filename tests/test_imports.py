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
