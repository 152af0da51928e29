"""Operating runs: the commands ``run``, ``status``, ``runs``, ``logs``, ``repair`` and ``cancel`` on one
:class:`~flowdef.operate.backend.Backend` per target engine (a Databricks workspace through the Jobs API, or the
local engine), with neutral views (:mod:`flowdef.operate.view`, whose JSON is the documented status contract),
the live display and summaries (:mod:`flowdef.operate.display`) and run following (:mod:`flowdef.operate.follow`).

Nothing here imports databricks-sdk at import time: the workspace backend connects when it is chosen.
"""
