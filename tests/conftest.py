"""Shared test helpers: the repository root and a disposable copy of the example project."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def example_project(tmp_path, monkeypatch) -> Path:
    """A copy of the smart-claims example (pyproject.toml, pipelines/, sql_templates/) as the working directory."""
    dest = tmp_path / "project"
    dest.mkdir()
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    for folder in ("pipelines", "sql_templates"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(dest)
    return dest


@pytest.fixture(autouse=True)
def _no_databricks_config(monkeypatch, tmp_path):
    """No test may pick up a real ~/.databrickscfg or DATABRICKS_* variables."""
    for name in list(os.environ):
        if name.startswith("DATABRICKS_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no-databrickscfg"))
