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

What databricks-sdk 0.162 does against it (read from ``_base_client.py``, ``retries.py``,
``errors/``; exercised in ``tests/test_fake_workspace.py``):

* Jobs calls use the ``/api/2.2/`` prefix (the fake also serves ``/api/2.1/``); permissions,
  workspace and SCIM use ``/api/2.0/``.  ``Config()`` first probes ``GET /.well-known/databricks-config``
  without a token (answered, not logged).
* Retries: every request (POST included) is retried on 429/503 - sleeping ``Retry-After`` seconds
  (1 when the header is missing) plus up to 1 s jitter - and on connection errors (reset, refused,
  dropped) and timeouts, sleeping ``min(attempt, 10)`` s plus jitter; other errors raise at once.  The
  whole budget is ``retry_timeout_seconds`` (SDK default 300 s; :meth:`FakeWorkspace.client` uses
  60 s).  So a lost create response (``Fault(action="commit_then_drop")``) makes the SDK send the
  create again: two jobs exist afterwards; so does a create saved and then answered 503/429 by a
  gateway (``Fault(action="commit_then_status", status=503)``).  Deploy code must guard against that
  itself.  Both faults answer a *rejected* request with its real error (only a committed write loses
  its answer).  ``list_lag=N`` keeps a new job out of the next N ``jobs/list`` answers.
* ``ws.waves()`` counts sequential round trips in the request log (each request records when it
  arrived and when it was answered): with ``ws.faults.latency(L)`` a client needs ``waves() * L``.
* ``w.workspace.upload`` sends multipart ``POST /api/2.0/workspace/import`` (fields ``path``,
  ``format``, ``language``, ``overwrite="true"`` and the file part ``content``); without ``format`` it
  infers ``language`` from ``.py/.sql/.scala/.R``, which imports a NOTEBOOK.  Because it passes form
  fields as ``data=``, the SDK does **not** retry it at all (not even on 503): callers must.
* Errors map by ``error_code`` first (``INVALID_PARAMETER_VALUE`` -> ``InvalidParameterValue``,
  ``RESOURCE_DOES_NOT_EXIST`` -> ``ResourceDoesNotExist``...), then by HTTP status; the SDK turns the
  legacy 400 "Job N does not exist" of ``jobs/get`` into ``ResourceDoesNotExist`` itself.
* ``run_now(...).result()`` polls ``runs/get`` until TERMINATED/SKIPPED and raises
  ``OperationFailed`` on INTERNAL_ERROR - which is what a run with a failed task reports.
"""

from flowdef.testing.faults import Fault
from flowdef.testing.server import FakeWorkspace, LoggedRequest
from flowdef.testing.state import ApiError

__all__ = ["ApiError", "FakeWorkspace", "Fault", "LoggedRequest"]
