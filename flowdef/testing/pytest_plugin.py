"""pytest plugin providing the ``fake_workspace`` fixture.

Enable it with the entry point ``[project.entry-points.pytest11] flowdef =
"flowdef.testing.pytest_plugin"`` (installed packages), with ``-p flowdef.testing.pytest_plugin``, or
by importing the fixture into a test module::

    from flowdef.testing.pytest_plugin import fake_workspace  # noqa: F401

    def test_deploy(fake_workspace):
        w = fake_workspace.client()
        ...
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flowdef.testing import FakeWorkspace

__all__ = ["fake_workspace", "local_project"]


@pytest.fixture
def fake_workspace() -> Iterator[FakeWorkspace]:
    """A started :class:`~flowdef.testing.FakeWorkspace`, stopped after the test."""
    with FakeWorkspace() as ws:
        yield ws


@pytest.fixture
def local_project(tmp_path):  # type: ignore[no-untyped-def]
    """The project in the working directory on the local engine, its data in a temporary folder
    (:class:`flowdef.testing.local.LocalProject`)."""
    from flowdef.testing.local import LocalProject

    project = LocalProject(".", data_dir=tmp_path / "flowdef-local")
    try:
        yield project
    finally:
        project.close()
