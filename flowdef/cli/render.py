"""Pictures of a job: Mermaid (paste into a PR), DOT (Graphviz) and plain text, with run_if and branches."""

from __future__ import annotations

from flowdef.model.spec import JobSpec, TaskSpec


def _kind(task: TaskSpec) -> str:
    from flowdef.cli.list import kind_name

    return kind_name(task)


def _order(job: JobSpec) -> list[TaskSpec]:
    """Drawing order: a task never precedes its dependencies, ties keep declaration order; declaration order when
    the graph has a cycle (validation reports it)."""
    from flowdef import graph

    g = graph.build(job)
    by_key = {t.key: t for t in job.tasks}
    if not g.is_acyclic or len(by_key) != len(job.tasks):  # a cycle or a duplicate key: validation says which
        return list(job.tasks)
    return [by_key[k] for k in g.order]


def _esc(text: str) -> str:
    return text.replace('"', "#quot;")


def mermaid(job: JobSpec) -> str:
    ids = {t.key: f"t{i}" for i, t in enumerate(job.tasks)}
    lines = ["flowchart TD", f"  %% {job.name} ({job.key})"]
    if job.triggers:
        lines.append(f'  trigger(["{_esc(_trigger_text(job))}"])')
    for t in _order(job):
        label = f"{t.key}<br/><small>{_kind(t)}"
        if t.run_if and t.run_if != "ALL_SUCCESS":
            label += f" · run_if {t.run_if}"
        if t.disabled:
            label += " · disabled"
        label += "</small>"
        shape = ('{"', '"}') if _kind(t) == "condition" else ('["', '"]')
        lines.append(f"  {ids[t.key]}{shape[0]}{_esc(label)}{shape[1]}")
    if job.triggers:
        for t in job.tasks:
            if not t.depends_on:
                lines.append(f"  trigger -.-> {ids[t.key]}")
    for t in _order(job):
        for d in t.depends_on:
            if d.task_key not in ids:
                continue
            arrow = f'-->|"{d.outcome}"|' if d.outcome else "-->"
            lines.append(f"  {ids[d.task_key]} {arrow} {ids[t.key]}")
    return "\n".join(lines) + "\n"


def dot(job: JobSpec) -> str:
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"digraph {q(job.key)} {{", "  rankdir=TB;", '  node [shape=box, fontname="Helvetica"];',
             f"  label={q(job.name)};"]
    for t in _order(job):
        label = f"{t.key}\\n{_kind(t)}"
        if t.run_if and t.run_if != "ALL_SUCCESS":
            label += f"\\nrun_if {t.run_if}"
        shape = ", shape=diamond" if _kind(t) == "condition" else ""
        style = ", style=dashed" if t.disabled else ""
        lines.append(f'  {q(t.key)} [label="{label}"{shape}{style}];')
    keys = {t.key for t in job.tasks}
    for t in _order(job):
        for d in t.depends_on:
            if d.task_key in keys:
                attr = f" [label={q(d.outcome)}]" if d.outcome else ""
                lines.append(f"  {q(d.task_key)} -> {q(t.key)}{attr};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def text(job: JobSpec) -> str:
    lines = [f"{job.name} ({job.key}): {len(job.tasks)} tasks; trigger: {_trigger_text(job) or 'manual'}"]
    for t in _order(job):
        line = f"  {t.key} [{_kind(t)}]"
        if t.depends_on:
            deps = ", ".join(d.task_key + (f"={d.outcome}" if d.outcome else "") for d in t.depends_on)
            line += f" <- {deps}"
        if t.run_if and t.run_if != "ALL_SUCCESS":
            line += f" (run_if {t.run_if})"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _trigger_text(job: JobSpec) -> str:
    if not job.triggers:
        return ""
    from flowdef.model.triggers import Cron, FileArrival, Periodic, TableUpdate

    t = job.triggers[0]
    if isinstance(t, Cron):
        return f"Cron {t.expression} ({t.timezone})"
    if isinstance(t, FileArrival):
        return f"FileArrival {t.url}"
    if isinstance(t, TableUpdate):
        return f"TableUpdate {', '.join(t.tables)}"
    if isinstance(t, Periodic):
        return f"every {t.interval} {t.unit.lower()}"
    return type(t).__name__


def render_graph(job: JobSpec, fmt: str) -> str:
    return {"mermaid": mermaid, "dot": dot, "text": text}[fmt](job)
