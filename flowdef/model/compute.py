"""Compute a task runs on, and the libraries it installs.

Compute is one of: a serverless :class:`Environment`, a shared :class:`JobCluster`, a per-task new cluster (a
bare :class:`ClusterSpec`), or an :class:`ExistingCluster`.  It is passed to tasks as ``compute=...`` (one keyword,
so "exactly one compute selector" holds by construction) or to the job as its default ``compute=`` for every task
that needs one.  SQL-flavoured tasks run on a SQL warehouse instead (``warehouse="<id>"``, default: the target's).
Example::

    serverless = Environment("default", version="3", dependencies=("pandas==2.2.3",))
    big = JobCluster("big", ClusterSpec("15.4.x-scala2.12", node_type_id="i3.xlarge",
                                        autoscale=Autoscale(2, 8)))
    job = Job("etl", compute=serverless)
    job.python_wheel("score", "acme_scoring", "main", compute=big, libraries=[Library.whl("dist/acme.whl")])
"""

from __future__ import annotations

from typing import Any

import attrs

from flowdef._check import (
    ANY_MAP, INT, OPT_BOOL, OPT_INT, OPT_STR, STR, STR_MAP, STRS, Expect, check_fields, instance, optional,
)
from flowdef._frozen import frozen
from flowdef._location import Location, caller_location


def _loc(value: Location | None) -> Location | None:
    return value if value is not None else caller_location()


def _strs(value: Any) -> Any:
    """One string or a list of them, as a tuple; anything else is kept for the type check to report."""
    if isinstance(value, str):
        return (value,)
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _sorted_pairs(value: Any) -> Any:
    """A name -> value table as sorted pairs; anything but a dict is kept for the type check to report."""
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple(sorted(value.items(), key=lambda kv: str(kv[0])))
    return value


def _pairs_of(expect: Expect) -> Expect:
    """The sorted pairs a table was converted to, checked as the table it was."""
    return Expect(expect.what, lambda v: isinstance(v, tuple) and all(
        isinstance(p, tuple) and len(p) == 2 for p in v) and expect.test(dict(v)))


_STR_PAIRS = _pairs_of(STR_MAP)
_ANY_PAIRS = _pairs_of(ANY_MAP)


# the serverless environment version is a string on the wire ("3"); a bare number is the same version, so it is
# accepted as written and spelled as a string (checked: not an arbitrary conversion of any value)
_VERSION = Expect("a version string such as '3'", lambda v: isinstance(v, str))


@frozen
class Environment:
    """A serverless job environment (``environments[].spec``): ``version`` is the serverless environment version;
    ``dependencies`` are pip requirement lines (``pandas==2.2.3``, ``/Volumes/.../x.whl``, ``-r /Workspace/...``);
    ``java_dependencies`` are JAR paths (Spark JAR tasks on serverless)."""

    key: str
    version: str = attrs.field(default="3", kw_only=True)
    dependencies: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_strs)
    java_dependencies: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_strs)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"key": "default"}, key=STR, version=_VERSION, dependencies=STRS,
                     java_dependencies=STRS)


@frozen
class Autoscale:
    min_workers: int
    max_workers: int

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"min_workers": 1, "max_workers": 1}, min_workers=INT, max_workers=INT)


@frozen
class ClusterSpec:
    """A classic cluster definition (``new_cluster``).

    Give exactly one of ``num_workers`` (``0`` with ``is_single_node=True`` for a single node) or ``autoscale``.
    ``init_scripts`` are paths; the prefix picks the storage (``/Volumes/`` → volumes, other ``/...`` → workspace,
    ``s3://``, ``abfss://``, ``gs://``, ``dbfs:/``).  ``extra`` carries the rarely used ``ClusterSpec`` fields
    verbatim (``aws_attributes``, ``azure_attributes``, ``gcp_attributes``, ``docker_image``, ``cluster_log_conf``,
    ``ssh_public_keys``, ...); ``flowdef validate`` checks each against the Jobs API schema.
    """

    spark_version: str
    node_type_id: str | None = attrs.field(default=None, kw_only=True)
    driver_node_type_id: str | None = attrs.field(default=None, kw_only=True)
    num_workers: int | None = attrs.field(default=None, kw_only=True)
    autoscale: Autoscale | None = attrs.field(default=None, kw_only=True)
    policy_id: str | None = attrs.field(default=None, kw_only=True)
    apply_policy_default_values: bool | None = attrs.field(default=None, kw_only=True)
    instance_pool_id: str | None = attrs.field(default=None, kw_only=True)
    driver_instance_pool_id: str | None = attrs.field(default=None, kw_only=True)
    spark_conf: tuple[tuple[str, str], ...] = attrs.field(default=(), kw_only=True, converter=_sorted_pairs)
    spark_env_vars: tuple[tuple[str, str], ...] = attrs.field(default=(), kw_only=True, converter=_sorted_pairs)
    custom_tags: tuple[tuple[str, str], ...] = attrs.field(default=(), kw_only=True, converter=_sorted_pairs)
    data_security_mode: str | None = attrs.field(default=None, kw_only=True)
    single_user_name: str | None = attrs.field(default=None, kw_only=True)
    runtime_engine: str | None = attrs.field(default=None, kw_only=True)
    kind: str | None = attrs.field(default=None, kw_only=True)
    is_single_node: bool | None = attrs.field(default=None, kw_only=True)
    use_ml_runtime: bool | None = attrs.field(default=None, kw_only=True)
    init_scripts: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_strs)
    # raw JSON values (dicts): compared, not hashed, so specs stay usable as dict keys
    extra: tuple[tuple[str, Any], ...] = attrs.field(default=(), kw_only=True, converter=_sorted_pairs, hash=False)

    def __attrs_post_init__(self) -> None:
        check_fields(
            self, {"spark_version": "15.4.x-scala2.12", "num_workers": 1},
            spark_version=STR, node_type_id=OPT_STR, driver_node_type_id=OPT_STR, num_workers=OPT_INT,
            autoscale=optional(instance(Autoscale, "Autoscale(min_workers, max_workers)")), policy_id=OPT_STR,
            apply_policy_default_values=OPT_BOOL, instance_pool_id=OPT_STR, driver_instance_pool_id=OPT_STR,
            spark_conf=_STR_PAIRS, spark_env_vars=_STR_PAIRS, custom_tags=_STR_PAIRS, data_security_mode=OPT_STR,
            single_user_name=OPT_STR, runtime_engine=OPT_STR, kind=OPT_STR, is_single_node=OPT_BOOL,
            use_ml_runtime=OPT_BOOL, init_scripts=STRS, extra=_ANY_PAIRS,
        )


@frozen
class JobCluster:
    """A cluster shared by the tasks of one job run (``job_clusters[]``)."""

    key: str
    spec: ClusterSpec
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"key": "cluster", "spec": ClusterSpec("15.4.x-scala2.12", num_workers=0)},
                     key=STR, spec=instance(ClusterSpec, "a ClusterSpec(...)"))


@frozen
class ExistingCluster:
    """An all-purpose cluster by id (not recommended for production jobs)."""

    cluster_id: str
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"cluster_id": "cluster"}, cluster_id=STR)


Compute = Environment | JobCluster | ExistingCluster | ClusterSpec
COMPUTE_TYPES = (Environment, JobCluster, ExistingCluster, ClusterSpec)
CLASSIC_TYPES = (JobCluster, ExistingCluster, ClusterSpec)  # compute that installs task libraries


LIBRARY_KINDS = ("pypi", "whl", "jar", "maven", "requirements", "cran")


@frozen
class Library:
    """A library installed on a task's classic cluster (``libraries[]``).  Serverless tasks declare theirs in
    :class:`Environment` ``dependencies`` instead.

    Paths relative to the project root are uploaded with the project files; absolute workspace, ``/Volumes/``
    and cloud paths are used as they are::

        Library.pypi("requests==2.32.3")
        Library.whl("dist/acme-1.0-py3-none-any.whl")
        Library.jar("/Volumes/main/libs/jars/udfs.jar")
        Library.maven("com.acme:udfs:1.2.0", exclusions=["org.slf4j:slf4j-api"])
        Library.requirements("requirements.txt")
    """

    kind: str
    value: str
    repo: str | None = attrs.field(default=None, kw_only=True)
    exclusions: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_strs)
    location: Location | None = attrs.field(default=None, kw_only=True, eq=False, converter=_loc)

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"kind": "pypi", "value": "package"}, kind=STR, value=STR, repo=OPT_STR,
                     exclusions=STRS)

    @classmethod
    def pypi(cls, package: str, *, repo: str | None = None) -> "Library":
        return cls("pypi", package, repo=repo, location=caller_location())

    @classmethod
    def whl(cls, path: str) -> "Library":
        return cls("whl", path, location=caller_location())

    @classmethod
    def jar(cls, path: str) -> "Library":
        return cls("jar", path, location=caller_location())

    @classmethod
    def requirements(cls, path: str) -> "Library":
        return cls("requirements", path, location=caller_location())

    @classmethod
    def maven(cls, coordinates: str, *, repo: str | None = None, exclusions=()) -> "Library":
        return cls("maven", coordinates, repo=repo, exclusions=exclusions, location=caller_location())

    @classmethod
    def cran(cls, package: str, *, repo: str | None = None) -> "Library":
        return cls("cran", package, repo=repo, location=caller_location())

    @property
    def is_path(self) -> bool:
        return self.kind in ("whl", "jar", "requirements")
