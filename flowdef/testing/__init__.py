"""A fake Databricks workspace for tests: the real HTTP API on loopback, driven by the real SDK.

Everything that talks to a workspace (deploy, run, repair) can be tested against
:class:`FakeWorkspace` with an unmodified ``databricks.sdk.WorkspaceClient``::

    from flowdef.testing import FakeWorkspace, Fault

    with FakeWorkspace() as ws:
        w = ws.client()                                   # real WorkspaceClient, PAT auth
        ws.faults.add(Fault(method="POST", path="/api/2.2/jobs/create", status=503, retry_after=0))
        job_id = w.jobs.create(name="nightly").job_id     # the SDK retries the 503 itself
        assert ws.count("POST", "/api/2.2/jobs/create") == 2
        assert ws.state.jobs[job_id]["max_concurrent_runs"] == 1   # server-filled default

In pytest use the ``fake_workspace`` fixture (``flowdef.testing.pytest_plugin``).  Importing this
package does not import databricks-sdk; only :meth:`FakeWorkspace.client` does.
"""

from flowdef.testing.faults import Fault
from flowdef.testing.server import FakeWorkspace, LoggedRequest
from flowdef.testing.state import ApiError

__all__ = ["ApiError", "FakeWorkspace", "Fault", "LoggedRequest"]
