"""A real monorepo for the scale benchmark: ``jobs`` jobs x ``tasks`` tasks, one job per module, a quarter of the
tasks SQL templates SHARED between jobs (``templates`` template files).

    python benchmarks/monorepo.py DEST [--jobs 500] [--tasks 20] [--templates 5]

writes ``DEST/flowdef.toml``, ``DEST/pipelines/<domain>/job_NNN.py`` and ``DEST/sql_templates/shared/*.sql``.
Every job is valid (``flowdef validate`` exits 0): a notebook ingest, then SQL transforms on the shared
templates (each with its own ``vars``), notebooks and Python scripts fanning out, a condition on a task value, and
a final publish step; a daily cron per job; serverless environments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

CONFIG = """\
project = "monorepo"
pipelines = ["pipelines"]
templates = "sql_templates"
default_target = "dev"

[targets.dev]
mode = "development"
name_prefix = "[dev] "
root_path = "/Workspace/Shared/.flowdef/monorepo/dev"
warehouse_id = "dev0warehouse0001"

[targets.dev.params]
catalog = "mono_dev"

[targets.dev.vars]
env = "dev"

[targets.prod]
mode = "production"
root_path = "/Workspace/Shared/.flowdef/monorepo/prod"
warehouse_id = "prod0warehouse001"

[targets.prod.vars]
env = "prod"
"""

# Shared SQL templates: jinja2 control flow + compile-time vars + run-time :markers, as a team would write them.
TEMPLATES = {
    "merge_into.sql": """\
-- {{ job.key }} / {{ task.key }}: merge {{ source }} into {{ table }} ({{ env }})
MERGE INTO IDENTIFIER(:catalog || '.' || :schema || '.{{ table }}') AS t
USING IDENTIFIER(:catalog || '.' || :schema || '.{{ source }}') AS s
ON {% for k in keys %}t.{{ k }} = s.{{ k }}{% if not loop.last %} AND {% endif %}{% endfor %}
WHEN MATCHED THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *;
""",
    "dedup.sql": """\
CREATE OR REPLACE TABLE IDENTIFIER(:catalog || '.' || :schema || '.{{ table }}_dedup') AS
SELECT * EXCEPT (_rn) FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY {{ keys | join(', ') }} ORDER BY {{ order_by | default('updated_at') }} DESC) AS _rn
  FROM IDENTIFIER(:catalog || '.' || :schema || '.{{ table }}')
) WHERE _rn = 1;
""",
    "aggregate.sql": """\
CREATE OR REPLACE TABLE IDENTIFIER(:catalog || '.' || :schema || '.{{ table }}_daily') AS
SELECT date_trunc('DAY', {{ ts }}) AS day,
{%- for m in metrics %}
  sum({{ m }}) AS {{ m }}_total{{ "," if not loop.last }}
{%- endfor %}
FROM IDENTIFIER(:catalog || '.' || :schema || '.{{ table }}')
WHERE {{ ts }} >= :since
GROUP BY 1;
""",
    "quality.sql": """\
-- data quality gate for {{ table }} ({{ env }})
SELECT
  count(*) AS rows,
  count_if({{ keys[0] }} IS NULL) AS null_keys,
  count(*) - count(DISTINCT {{ keys | join(', ') }}) AS duplicate_keys
FROM IDENTIFIER(:catalog || '.' || :schema || '.{{ table }}')
HAVING null_keys = 0;  -- {{ task.key }}
""",
    "publish.sql": """\
{% set view = table ~ '_v' %}
CREATE OR REPLACE VIEW IDENTIFIER(:catalog || '.' || :schema || '.{{ view }}') AS
SELECT * FROM IDENTIFIER(:catalog || '.' || :schema || '.{{ table }}')
{% if env == 'dev' %}LIMIT 1000{% endif %};
""",
}

DOMAINS = ("sales", "finance", "marketing", "ops", "hr", "supply", "risk", "web", "mobile", "support")


def module_source(i: int, tasks: int, templates: list[str]) -> str:
    """One job module: ``tasks`` tasks, a quarter of them SQL on the shared templates."""
    n_sql = tasks // 4
    lines = [
        f'"""Generated job {i:03d} of the monorepo benchmark."""',
        "",
        "from flowdef import Cron, Environment, Job, Retry",
        "",
        f'job = Job(\n    "mono_job_{i:03d}",',
        f'    params={{"catalog": "mono", "schema": "s{i:03d}", "since": "2026-01-01"}},',
        f'    tags={{"domain": "{DOMAINS[i % len(DOMAINS)]}", "owner": "team_{i % 17}"}},',
        # the time zone is left at its default (UTC): older flowdef trees spelled the keyword tz=, and the
        # benchmark's --baseline must load the same project
        f'    trigger=Cron.daily(at="{i % 24:02d}:{(i * 7) % 60:02d}"),',
        '    compute=Environment("default", version="3"),',
        "    max_concurrent_runs=1,",
        "    timeout=7200,",
        ")",
        "",
        'ingest = job.notebook("ingest", "/Workspace/Shared/mono/ingest", params={"source": "s3://raw/' + f'{i}' + '"},',
        '                      values={"rows": int}, retry=Retry(2, interval=60))',
    ]
    made = 1
    prev = "ingest"
    sql_names = []
    for s in range(n_sql):
        tpl = templates[(i + s) % len(templates)]
        key = f"sql_{s}_{tpl.split('.')[0]}"
        vars_ = (f'{{"table": "t{i}_{s}", "source": "stg{i}_{s}", "keys": ["id", "day"], "ts": "event_time", '
                 f'"metrics": ["amount", "qty"]}}')
        lines.append(f'{key} = job.sql("{key}", "shared/{tpl}", vars={vars_}, depends_on=[{prev}])')
        sql_names.append(key)
        prev = key
        made += 1
    lines.append('check = job.condition("has_rows", ingest.values.rows, ">", 0, depends_on=[ingest])')
    made += 1
    rest = tasks - made - 1
    fan = []
    for r in range(rest):
        key = f"step_{r}"
        dep = "check.true" if r % 3 == 0 else (sql_names[r % len(sql_names)] if sql_names else "ingest")
        if r % 2:
            lines.append(f'{key} = job.python_file("{key}", "/Workspace/Shared/mono/step.py", '
                         f'params={{"n": "{r}", "table": "t{i}"}}, depends_on=[{dep}])')
        else:
            lines.append(f'{key} = job.notebook("{key}", "/Workspace/Shared/mono/step", '
                         f'params={{"n": "{r}", "rows": ingest.values.rows}}, depends_on=[{dep}])')
        fan.append(key)
    lines.append(f'publish = job.notebook("publish", "/Workspace/Shared/mono/publish", depends_on=[{", ".join(fan or [prev])}])')
    return "\n".join(lines) + "\n"


def write(dest: Path, jobs: int = 500, tasks: int = 20, templates: int = 5) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "flowdef.toml").write_text(CONFIG)
    names = sorted(TEMPLATES)[:templates]
    shared = dest / "sql_templates" / "shared"
    shared.mkdir(parents=True, exist_ok=True)
    for name in names:
        (shared / name).write_text(TEMPLATES[name])
    for i in range(jobs):
        folder = dest / "pipelines" / DOMAINS[i % len(DOMAINS)]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"job_{i:03d}.py").write_text(module_source(i, tasks, names))
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--templates", type=int, default=5)
    args = parser.parse_args(argv)
    write(args.dest, args.jobs, args.tasks, args.templates)
    print(f"wrote {args.jobs} jobs x {args.tasks} tasks into {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
