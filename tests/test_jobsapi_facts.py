"""Jobs API facts are written once (flowdef/jobsapi/facts.py) and agree with the databricks-sdk's enums."""

from __future__ import annotations

import ast
from pathlib import Path

from flowdef.jobsapi import facts
from flowdef.model.spec import RunIf
from tests.conftest import ROOT

PACKAGE = Path(ROOT) / "flowdef"
HOME = PACKAGE / "jobsapi" / "facts.py"
# generated from databricks-sdk (python -m tests.tools.gen_fields): the SDK's enums are its content, not a copy
GENERATED = PACKAGE / "jobsapi" / "fields_table.py"


def test_the_facts_agree_with_the_sdk():
    from databricks.sdk.service import jobs

    assert set(facts.RUN_IF_VALUES) == {m.value for m in jobs.RunIf}
    assert set(facts.CONDITION_OPS) == {m.value for m in jobs.ConditionTaskOp}
    assert set(facts.HEALTH_OPS) == {m.value for m in jobs.JobsHealthOperator}
    assert set(facts.CONDITION_OP_SYMBOLS.values()) == set(facts.CONDITION_OPS)
    assert set(facts.CONDITION_OP_LOOKALIKES.values()) <= set(facts.CONDITION_OPS)


def test_the_public_run_if_enum_is_the_api_list():
    assert tuple(r.value for r in RunIf) == facts.RUN_IF_VALUES


def _literal_strings(node: ast.AST) -> set[str]:
    items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", [])
    values = node.values if isinstance(node, ast.Dict) else []
    return {n.value for n in [*items, *values] if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_no_module_writes_its_own_copy_of_an_api_enum():
    """A tuple/list/set/dict literal holding four or more values of one API enum (all of a shorter one), outside
    facts.py, is a copy (``RunIf``, the typed public enum, is checked against the facts above)."""
    enums = {"run_if": set(facts.RUN_IF_VALUES), "condition op": set(facts.CONDITION_OPS),
             "identity tags": set(facts.IDENTITY_TAGS), "path prefixes": set(facts.CLOUD_PATH_PREFIXES)}
    copies = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in (HOME, GENERATED) or "__pycache__" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
                found = _literal_strings(node)
                for name, values in enums.items():
                    if len(found & values) >= min(4, len(values)):
                        copies.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert not copies, "import these from flowdef.jobsapi.facts instead:\n" + "\n".join(copies)


def test_external_paths():
    assert facts.is_external_path("/Volumes/main/x.whl") and facts.is_external_path("s3://b/k")
    assert facts.is_external_path("dbfs:/x") and facts.is_external_path("file:/tmp/x")
    assert not facts.is_external_path("src/job.py") and not facts.is_external_path("./x.py")
