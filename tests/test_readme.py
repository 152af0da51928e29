"""The README's examples run as written."""

from __future__ import annotations

import re

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def _block(marker: str) -> str:
    for block in re.findall(r"```python\n(.*?)```", README, re.S):
        if marker in block:
            return block
    raise AssertionError(f"no python block with {marker!r} in README.md")


def test_fake_workspace_example(fake_workspace):
    namespace: dict = {}
    exec(_block("def test_my_deploy"), namespace)
    namespace["test_my_deploy"](fake_workspace)


def test_control_flow_example_validates_clean(tmp_path, monkeypatch, capsys):
    from flowdef.cli import main

    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "review.py").write_text(_block("claims_review"))
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--strict"]) == 0, capsys.readouterr()
    assert main(["compile"]) == 0


def test_quick_start_is_two_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", quick, re.S)
    assert [c.strip() for c in commands] == [
        "pip install -e . && python -m flowdef validate && python -m flowdef compile && python -m flowdef.local.example_data"
        " && python -m flowdef run smart_claims_ingestion --target local"
        " && python -m flowdef run smart_claims_bronze_to_silver --target local",
        "pip install -e '.[test]' && python -m pytest",
    ]
