"""The way in and the way out: convert flowdef jobs to other formats and existing jobs to flowdef.

- :mod:`flowdef.convert.bundle`: a flowdef project as a Databricks Asset Bundle (``databricks.yml`` and one
  ``resources/<job>.job.yml`` per job), targets mapped to bundle targets (``python -m flowdef export``).
- :mod:`flowdef.convert.bundles_hook`: the ``python: resources:`` entry point databricks-bundles calls while it
  loads a bundle, handing flowdef's jobs to the bundle as job resources.
- :mod:`flowdef.convert.interpolate`: bundle ``${...}`` interpolation, resolved for one target.

Nothing here is imported by ``import flowdef``; pyyaml is imported only where YAML is read or written.
"""
