"""``validate`` and ``compile`` of a big project on every core.

Loading a pipelines module runs the user's code, and checking a job looks at that job alone; only a few rules
look across jobs (unique names and keys, run-job tasks and job-completion triggers between jobs, target
parameters some job declares), and they need a few plain facts per job (:class:`~flowdef.validate.jobrefs.JobFacts`).
So a project of many modules is split into contiguous shares of its sorted module list; this process loads and
checks (and, for ``compile``, compiles) the first share while forked worker processes do the others and send back
their diagnostics, job facts and compiled files.  The rules across jobs then run here, on all the facts, and the
diagnostics are merged, cascades dropped and sorted: the same output as one process, byte for byte (tested).

A worker costs about 20 ms to start, so a project of fewer than ``2 * MIN_SHARE`` modules, a machine with one
core, or a platform without ``fork`` is checked in this process alone.  ``FLOWDEF_WORKERS=1`` turns workers off;
``FLOWDEF_WORKERS=N`` sets the number of processes.  The heavy imports (networkx, jinja2) happen here before the
fork, so workers start with them loaded.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from flowdef._frozen import frozen
from flowdef.diagnostics import Diagnostic, has_errors, sort_diagnostics, without_cascades
from flowdef.load.config import ProjectConfig, Target
from flowdef.load.literals import DuplicateKeyCache
from flowdef.load.loader import discover, load_files
from flowdef.validate import job_rules, project_rules
from flowdef.validate.jobrefs import JobFacts

MIN_SHARE = 32  # modules per process at least: below that, starting a process costs more than it saves
MAX_WORKERS = 8


@frozen
class Checked:
    """A project loaded, validated and (when asked and valid) compiled."""

    diagnostics: tuple[Diagnostic, ...]  # sorted, cascades dropped
    jobs: int
    tasks: int
    files: dict[str, str] | None  # compile's output (relative name -> content); None if not asked or invalid
    processes: int = 1


@frozen
class _Share:
    """What one process found in its share of the modules."""

    diagnostics: tuple[Diagnostic, ...]
    facts: tuple[JobFacts, ...]
    tasks: int
    files: tuple[tuple[str, dict[str, str]], ...] | None  # (job key, its compiled files) per job
    literal_keys: dict[str, Any]  # the FD605 cache entries it used (saved once, by this process)


def processes_for(modules: int) -> int:
    """How many processes check ``modules`` modules: ``FLOWDEF_WORKERS``, else one per core, at most one per
    ``MIN_SHARE`` modules."""
    if not hasattr(os, "fork"):  # Windows: no fork, one process
        return 1
    wanted = os.environ.get("FLOWDEF_WORKERS", "").strip()
    if wanted:  # asked for (on macOS too, where forking after imports is the user's call)
        try:
            return max(1, min(int(wanted), modules or 1))
        except ValueError:
            print(f"warning: FLOWDEF_WORKERS={wanted!r} is not a number of processes; ignored (set it to 1 to "
                  "check in one process)", file=sys.stderr)
    if not sys.platform.startswith("linux"):  # fork is Linux's; macOS forks unsafely, Windows not at all
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, modules // MIN_SHARE, MAX_WORKERS))


def check_project(config: ProjectConfig, target: Target, paths: list[str] | None = None, *,
                  compile: bool = False, processes: int | None = None) -> Checked:
    """Load the project's pipelines (or ``paths``), validate them for ``target`` and, with ``compile``, compile
    them when no error was found."""
    files, problems = discover(config, paths)
    count = processes if processes is not None else processes_for(len(files))
    shares = _split(files, count)
    everything = frozenset(str(f) for f in files)
    literal_keys = DuplicateKeyCache(config.root)
    if len(shares) > 1:
        _preload(compile)
    with _without_cycle_collection():
        workers = [_start(config, target, share, everything, compile) for share in shares[1:]]
        results = [_check_share(config, target, shares[0], everything, literal_keys, compile,
                                problems)]
        results += [_collect(worker) for worker in workers]
    for result in results[1:]:
        literal_keys.add(result.literal_keys)
    literal_keys.save()
    facts = [f for result in results for f in result.facts]
    diags = [d for result in results for d in result.diagnostics] + project_rules(facts, config)
    diags = sort_diagnostics(without_cascades(diags))
    files_out: dict[str, str] | None = None
    if compile and not has_errors(diags):
        per_job = sorted((pair for result in results for pair in result.files or ()), key=lambda pair: pair[0])
        files_out = {name: text for _, job_files in per_job for name, text in job_files.items()}
    return Checked(tuple(diags), len(facts), sum(r.tasks for r in results), files_out, len(shares))


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Python's cycle collector, off while the modules load and the jobs are checked (the workers forked then
    inherit it off): building tens of thousands of objects that all stay alive makes it scan the growing heap
    again and again for nothing, ~15 % of a monorepo's validate.  Reference counting still frees everything
    that is not in a cycle; the few cycles made meanwhile wait for the next collection (measured: +7 MB on the
    500-job monorepo)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _split(files: list[Path], count: int) -> list[list[Path]]:
    """``count`` contiguous shares of about equal size (the jobs keep their order: share by share); never an
    empty list (no module: one empty share)."""
    count = max(1, min(count, len(files)))
    size, extra = divmod(len(files), count)
    shares, start = [], 0
    for i in range(count):
        end = start + size + (i < extra)
        shares.append(files[start:end])
        start = end
    return [s for s in shares if s] or [[]]


def _preload(compile: bool) -> None:
    """Import what every share needs before forking, so each worker does not import it again."""
    import flowdef.graph  # noqa: F401  (networkx)
    from flowdef.compile import templates  # noqa: F401  (jinja2)
    from flowdef.validate import sql  # noqa: F401

    if compile:
        from flowdef.compile import compiler  # noqa: F401


def _check_share(config: ProjectConfig, target: Target, files: list[Path], everything: frozenset[str],
                 literal_keys: DuplicateKeyCache, compile: bool, problems: Sequence[Diagnostic] = ()) -> _Share:
    loaded = load_files(config, files, literal_keys, pipeline_files=everything, problems=problems)
    diags, facts = job_rules(loaded.jobs, config, target)
    diags = [*loaded.diagnostics, *diags]
    compiled = None
    if compile and not has_errors(diags):
        from flowdef.compile.compiler import job_files

        compiled = tuple((job.key, job_files(job, target, config)) for job in loaded.jobs)
    return _Share(tuple(diags), tuple(facts), sum(len(j.tasks) for j in loaded.jobs), compiled,
                  literal_keys.used)


def _start(config: ProjectConfig, target: Target, files: list[Path], everything: frozenset[str],
           compile: bool) -> tuple[Any, Any, list[Path]]:
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    receive, send = fork.Pipe(duplex=False)
    process = fork.Process(target=_worker, args=(send, config, target, files, everything, compile),
                           name="flowdef-check", daemon=True)
    process.start()
    send.close()
    return process, receive, files


def _worker(send: Any, config: ProjectConfig, target: Target, files: list[Path], everything: frozenset[str],
            compile: bool) -> None:
    try:
        result: tuple[str, Any] = ("ok", _check_share(config, target, files, everything,
                                                      DuplicateKeyCache(config.root), compile))
    except BaseException:  # noqa: BLE001 - handed to the parent, which reports it as an internal error
        result = ("error", traceback.format_exc())
    send.send(result)
    send.close()


def _collect(worker: tuple[Any, Any, list[Path]]) -> _Share:
    process, receive, files = worker
    try:
        status, value = receive.recv()
    except EOFError:
        process.join()
        raise RuntimeError(f"the worker process checking {files[0]} .. {files[-1]} ended without an answer "
                           f"(exit code {process.exitcode}); run with FLOWDEF_WORKERS=1 to check in one process")
    finally:
        receive.close()
    process.join()
    if status != "ok":
        raise RuntimeError(f"checking {files[0]} .. {files[-1]} failed in a worker process:\n{value}")
    return value
