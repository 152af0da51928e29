"""Compute a task runs on: a serverless ``Environment``, a shared ``JobCluster``, or an ``ExistingCluster``.

Passed to tasks as ``compute=...`` (one keyword, so "exactly one compute selector" holds by construction) or to
the job as its default ``compute=`` for every task that needs one.  Example::

    serverless = Environment("default", version="3", dependencies=("pandas==2.2.3",))
    job = Job("etl", compute=serverless)
"""

from __future__ import annotations

import attrs

from flowdef._location import Location, caller_location


def _loc(value: Location | None) -> Location | None:
    return value if value is not None else caller_location()


def _strs(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@attrs.frozen
class Environment:
    """A serverless job environment (``environments[].spec``)."""

    key: str
    version: str = attrs.field(default="3", kw_only=True, converter=str)
    dependencies: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_strs)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)


@attrs.frozen
class Autoscale:
    min_workers: int
    max_workers: int


@attrs.frozen
class ClusterSpec:
    """A classic cluster definition (``new_cluster``).  ``extra`` carries rarely used fields verbatim."""

    spark_version: str
    node_type_id: str | None = attrs.field(default=None, kw_only=True)
    num_workers: int | None = attrs.field(default=None, kw_only=True)
    autoscale: Autoscale | None = attrs.field(default=None, kw_only=True)
    policy_id: str | None = attrs.field(default=None, kw_only=True)
    spark_conf: tuple[tuple[str, str], ...] = attrs.field(
        default=(), kw_only=True, converter=lambda d: tuple(sorted(dict(d).items()))
    )
    spark_env_vars: tuple[tuple[str, str], ...] = attrs.field(
        default=(), kw_only=True, converter=lambda d: tuple(sorted(dict(d).items()))
    )
    data_security_mode: str | None = attrs.field(default=None, kw_only=True)
    single_user_name: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class JobCluster:
    """A cluster shared by the tasks of one job run (``job_clusters[]``)."""

    key: str
    spec: ClusterSpec
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)


@attrs.frozen
class ExistingCluster:
    """An all-purpose cluster by id (not recommended for production jobs)."""

    cluster_id: str
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)


Compute = Environment | JobCluster | ExistingCluster
COMPUTE_TYPES = (Environment, JobCluster, ExistingCluster)
