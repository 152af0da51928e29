"""The example jobs compile to the reviewed golden payloads, byte for byte, for both targets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowdef.cli import main
from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("FLOWDEF_UPDATE_GOLDEN") == "1"


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_examples_match_golden(target, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "build"
    assert main(["compile", "--target", target, "--out", str(out)]) == 0
    golden = GOLDEN / target
    if UPDATE:
        import shutil

        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(out, golden)
    produced, expected = _tree(out), _tree(golden)
    assert sorted(produced) == sorted(expected)
    for name in expected:
        assert produced[name] == expected[name], f"{name} differs from the golden file (FLOWDEF_UPDATE_GOLDEN=1)"


def test_prod_differs_from_dev_only_where_targets_differ():
    import json

    dev = json.loads((GOLDEN / "dev" / "smart_claims_ingestion.json").read_text())
    prod = json.loads((GOLDEN / "prod" / "smart_claims_ingestion.json").read_text())
    assert dev["name"] == "[dev] smart_claims_ingestion" and prod["name"] == "smart_claims_ingestion"
    assert {p["name"]: p["default"] for p in dev["parameters"]}["catalog"] == "smart_claims_dev"
    assert {p["name"]: p["default"] for p in prod["parameters"]}["catalog"] == "smart_claims_prod"
    assert dev["trigger"]["pause_status"] == "PAUSED" and prod["trigger"]["pause_status"] == "UNPAUSED"
    assert prod["trigger"]["file_arrival"]["url"] == "/Volumes/smart_claims_prod/00_landing/sql_server/"
    assert (GOLDEN / "prod" / "smart_claims_ingestion" / "ingest_customers.sql").read_text().count(
        "/Volumes/smart_claims_prod/00_landing/sql_server/customers.csv") == 1


def test_compile_is_byte_identical_across_processes(tmp_path):
    """Determinism: two fresh interpreters (different hash seeds) write identical bytes."""
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"b{seed}"
        env = dict(os.environ, PYTHONHASHSEED=seed)
        subprocess.run([sys.executable, "-m", "flowdef", "compile", "--out", str(out)], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        outs.append({k: v.encode() for k, v in _tree(out).items()})
    assert outs[0] == outs[1]
    assert len(outs[0]) == 7
