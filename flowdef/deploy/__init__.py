"""Deploy without a state file: plan / apply / destroy / bind against a workspace through databricks-sdk.

The only package (with :mod:`flowdef.testing`) that imports databricks-sdk, and only inside functions, so
``import flowdef.deploy`` stays cheap.  Modules: ``normalize`` (one canonical form for comparing jobs), ``diff``
(field-level changes), ``plan`` (the plan model and its rendering), ``manifest`` (artifact hashes and id hints),
``lock`` (the workspace deploy lock), ``refs`` (job-to-job references resolved at deploy time), ``client`` (the
workspace calls, retries), ``engine`` (read, plan, apply), ``session`` (what the four commands share).
See docs/adr/0003-deploy-without-state.md.
"""
