"""``flowdef cron EXPR [--tz TZ] [--after INSTANT] [--count N]``: preview a Quartz schedule.

Prints the next N fire times, one per line on stdout, as ISO-8601 UTC instants
(``2026-11-29T12:00:00Z``), and a one-line English description (plus any warnings
about things Quartz accepts silently) on stderr.  Exit 0; exit 1 with
``error: <message>`` on stderr for an invalid expression, time zone, --after or --count.

``--after`` is an ISO-8601 instant: ``2026-11-26T10:00:00Z``, ``2026-11-26T11:00:00+01:00``
or a date ``2026-11-26``; a value without ``Z``/offset is taken as UTC.  Default: now.
The schedule is evaluated exactly as Quartz 2.3.2 (Databricks) evaluates it in the
Java time zone ``--tz`` (default UTC), daylight-saving gaps and overlaps included.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

HELP = "preview a Quartz cron schedule: the next fire times"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("expr", help="Quartz cron expression, e.g. '0 30 2 * * ?'")
    p.add_argument("--tz", default="UTC", help="Java time-zone id (default UTC)")
    p.add_argument("--after", default=None, help="ISO-8601 instant to start from (default: now)")
    p.add_argument("--count", type=int, default=5, help="how many fire times (default 5)")


def parse_instant(text: str | None) -> datetime:
    """ISO-8601 instant; ``Z`` or an offset; a value without one means UTC; None means now."""
    if text is None:
        return datetime.now(timezone.utc).replace(microsecond=0)
    raw = text.strip()
    cleaned = raw[:-1] + "+00:00" if raw[-1:] in ("Z", "z") else raw
    try:
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"--after: {text!r} is not an ISO-8601 instant (e.g. 2026-11-26T10:00:00Z or 2026-11-26T11:00:00+01:00)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def format_instant(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(args) -> int:
    from flowdef.quartz import QuartzError, parse

    expr_text = args.expr
    tz = getattr(args, "tz", None) or "UTC"
    count = getattr(args, "count", 5)
    if count is None:
        count = 5
    if count < 0:
        print(f"error: --count must be 0 or more, got {count}", file=sys.stderr)
        return 1
    try:
        after = parse_instant(getattr(args, "after", None))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        expr = parse(expr_text)
        fires = expr.next_fire_times(after, tz, count)
    except QuartzError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except ValueError as exc:  # --after out of range
        print(f"error: --after: {exc}", file=sys.stderr)
        return 1

    print(f"{expr.describe()} (time zone {tz})", file=sys.stderr)
    for warning in expr.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for fire in fires:
        print(format_instant(fire))
    if len(fires) < count:
        when = format_instant(fires[-1]) if fires else format_instant(after)
        print(f"note: no fire time after {when} (Quartz stops there)", file=sys.stderr)
    return 0
