"""English descriptions of Quartz cron expressions."""

from __future__ import annotations


def describe_expression(expr) -> str:
    return expr.expression
