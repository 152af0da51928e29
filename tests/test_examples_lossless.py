"""The example payloads survive databricks-sdk's JobSettings unchanged (nothing the SDK would drop)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT

jobs = pytest.importorskip("databricks.sdk.service.jobs")

PAYLOADS = sorted((ROOT / "tests" / "golden").glob("dev/*.json")) + sorted((ROOT / "tests" / "golden").glob("prod/*.json"))


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_sdk_round_trip(path):
    payload = json.loads(path.read_text())
    assert jobs.JobSettings.from_dict(payload).as_dict() == payload


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_bundle_schema(path):
    from flowdef.jobsapi import schema
    if schema.load() is None:
        pytest.skip("bundle JSON schema not found (../shared/schemas/bundle_jsonschema.json)")
    problems, unchecked = schema.check_payload(json.loads(path.read_text()))
    assert problems == [] and unchecked == []


def test_there_are_payloads():
    assert len(PAYLOADS) == 4
