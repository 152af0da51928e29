"""Run the real Quartz library (``QuartzOracle.java``) as a test oracle.

Needs a JDK (``java`` and ``javac`` on PATH) and the Quartz 2.x jar (Debian:
``apt-get install -y libquartz2-java default-jdk-headless``; or point ``FLOWDEF_QUARTZ_JAR``
at a ``quartz-2.3.2.jar``).  The oracle is compiled once into a cache directory
under ``tempfile.gettempdir()`` keyed by a hash of the source, the jar and the JDK,
and all cases of a call run in ONE JVM.

Usable from tests (``available()``, ``run_cases``) and from the command line::

    python tests/quartz_oracle/oracle.py '0 0 12 ? * 6#3' --tz Europe/Berlin --count 5
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "QuartzOracle.java"

_JAR_CANDIDATES = (
    "/usr/share/java/quartz2.jar",
    "/usr/share/java/quartz2-*.jar",
    "/usr/share/java/quartz.jar",
    "/usr/share/maven-repo/org/quartz-scheduler/quartz/2.*/quartz-2.*.jar",
)


@dataclasses.dataclass(frozen=True)
class OracleResult:
    kind: str  # "OK" | "ERR" (Quartz rejects) | "EXC" (exception while computing) | "TIMEOUT"
    times_ms: tuple[int, ...] = ()
    message: str = ""

    @property
    def accepted(self) -> bool:
        return self.kind != "ERR"


def quartz_jar() -> str | None:
    env = os.environ.get("FLOWDEF_QUARTZ_JAR")
    if env:
        return env if os.path.isfile(env) else None
    for pattern in _JAR_CANDIDATES:
        for path in sorted(glob.glob(pattern)):
            if os.path.isfile(path):
                return os.path.realpath(path)
    return None


def unavailable_reason() -> str | None:
    """Why the oracle cannot run here, or None when it can."""
    for tool in ("java", "javac"):
        if shutil.which(tool) is None:
            return f"'{tool}' not found (install a JDK, e.g. apt-get install -y default-jdk-headless)"
    if quartz_jar() is None:
        return "Quartz jar not found (apt-get install -y libquartz2-java, or set FLOWDEF_QUARTZ_JAR)"
    return None


def available() -> bool:
    return unavailable_reason() is None


def _java_version() -> str:
    proc = subprocess.run(["javac", "-version"], capture_output=True, text=True, check=False)
    return (proc.stdout + proc.stderr).strip()


_compiled: str | None = None


def compile_oracle() -> str:
    """Compile QuartzOracle.java (once, cached); returns the class directory."""
    global _compiled
    if _compiled and os.path.isfile(os.path.join(_compiled, "QuartzOracle.class")):
        return _compiled
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    jar = quartz_jar()
    assert jar is not None
    key = hashlib.sha256()
    key.update(SOURCE.read_bytes())
    key.update(jar.encode())
    key.update(str(os.path.getsize(jar)).encode())
    key.update(_java_version().encode())
    cache = os.path.join(tempfile.gettempdir(), f"flowdef-quartz-oracle-{key.hexdigest()[:16]}")
    if not os.path.isfile(os.path.join(cache, "QuartzOracle.class")):
        staging = tempfile.mkdtemp(prefix="flowdef-quartz-oracle-build-")
        proc = subprocess.run(
            ["javac", "-nowarn", "-Xlint:none", "-d", staging, "-cp", jar, str(SOURCE)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise RuntimeError(f"javac failed:\n{proc.stdout}{proc.stderr}")
        try:
            os.rename(staging, cache)
        except OSError:  # another process won the race
            shutil.rmtree(staging, ignore_errors=True)
    _compiled = cache
    return cache


def _run(args: list[str], stdin: str, timeout: float) -> list[str]:
    classes = compile_oracle()
    jar = quartz_jar()
    cmd = ["java", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", f"{jar}{os.pathsep}{classes}", "QuartzOracle", *args]
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"oracle failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout.splitlines()


def _escape(expr: str) -> str:
    return expr.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", " ")


def run_cases(
    cases: list[tuple[str, str, int, int]], timeout_ms: int = 2000
) -> list[OracleResult]:
    """Evaluate (expression, timezone, after_epoch_millis, count) cases in one JVM."""
    if not cases:
        return []
    lines = [f"{_escape(e)}\t{tz}\t{after}\t{count}" for e, tz, after, count in cases]
    budget = 60 + len(cases) * 0.05 + timeout_ms / 1000 * 4
    out = _run([f"--timeout-ms={timeout_ms}"], "\n".join(lines) + "\n", timeout=budget)
    if len(out) != len(cases):
        raise RuntimeError(f"oracle answered {len(out)} lines for {len(cases)} cases")
    results = []
    for line in out:
        kind, _, rest = line.partition(" ")
        if kind in ("OK", "TIMEOUT"):
            results.append(OracleResult(kind, tuple(int(x) for x in rest.split())))
        elif kind in ("ERR", "EXC"):
            results.append(OracleResult(kind, (), rest))
        else:
            raise RuntimeError(f"unexpected oracle output: {line!r}")
    return results


def java_zones() -> list[str]:
    """Lines of ``QuartzOracle --zones`` (id, source, toZoneId, offset changes)."""
    return _run(["--zones"], "", timeout=300)


def java_timezone_ids() -> list[str]:
    """``java.util.TimeZone.getAvailableIDs()``."""
    return _run(["--ids"], "", timeout=120)


def resolve_timezones(ids: list[str]) -> list[tuple[str, int]]:
    """What ``TimeZone.getTimeZone(id)`` resolves each id to: (resolved id, raw offset s)."""
    out = _run(["--resolve"], "".join(i + "\n" for i in ids), timeout=120)
    return [(a, int(b)) for a, b in (line.split("\t") for line in out)]


def main(argv: list[str] | None = None) -> int:
    import argparse
    import datetime as dt

    parser = argparse.ArgumentParser(description="Ask the real Quartz library for fire times.")
    parser.add_argument("expr")
    parser.add_argument("--tz", default="UTC")
    parser.add_argument("--after", default=None, help="ISO-8601 instant (default: now)")
    parser.add_argument("--count", type=int, default=5)
    args = parser.parse_args(argv)
    if args.after:
        after = dt.datetime.fromisoformat(args.after.replace("Z", "+00:00"))
        if after.tzinfo is None:
            after = after.replace(tzinfo=dt.timezone.utc)
    else:
        after = dt.datetime.now(dt.timezone.utc)
    (res,) = run_cases([(args.expr, args.tz, int(after.timestamp() * 1000), args.count)])
    if res.kind == "ERR":
        print(f"ERR {res.message}")
        return 1
    for ms in res.times_ms:
        print(dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    if res.kind != "OK":
        print(f"{res.kind} {res.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
