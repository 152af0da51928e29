"""Job 2 - bronze -> silver: deduplicate claims (Python, publishing metrics as task values), then build the
enriched join with SQL, fanning out to a metrics task and a sample task.

    deduplicate_claims --> join_tables_create --> join_tables_metrics
                                   \\                    |
                                    +----------> join_tables_sample   (runs if create OR metrics succeeded)
"""

from __future__ import annotations

from flowdef import Cron, Environment, Job, Retry, RunIf, TaskContext

serverless = Environment("default", version="3")

job = Job(
    "smart_claims_bronze_to_silver",
    description="Smart claims: deduplicate claims and join claims, policies and customers into silver.",
    # simulate_failure=true makes join_tables_create fail: the lesson's failure -> repair drill (README).
    params={"catalog": "smart_claims_dev", "schema_bronze": "01_bronze", "schema_silver": "02_silver",
            "simulate_failure": "false"},
    tags={"domain": "insurance", "layer": "silver"},
    trigger=Cron.daily(at="06:00", timezone="America/Sao_Paulo"),
    compute=serverless,
    max_concurrent_runs=1,
    timeout=3600,
)

DEDUP_METRICS = {
    "total_rows_before": int,
    "unique_claims_before": int,
    "duplicate_rows_removed": int,
    "total_rows_after": int,
}


def dedup_metrics(total_before: int, unique_before: int, total_after: int) -> dict[str, int]:
    """The numbers the dedup task publishes (a pure function, unit-tested without Spark)."""
    return {
        "total_rows_before": total_before,
        "unique_claims_before": unique_before,
        "duplicate_rows_removed": total_before - total_after,
        "total_rows_after": total_after,
    }


@job.task(values=DEDUP_METRICS, retry=Retry(2, interval=60))
def deduplicate_claims(ctx: TaskContext) -> None:
    """Keep one row per claim_no: the latest claim_date (ROW_NUMBER over claim_no by claim_date DESC NULLS LAST)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = ctx.spark
    catalog, bronze, silver = ctx.params["catalog"], ctx.params["schema_bronze"], ctx.params["schema_silver"]
    claims = spark.table(f"`{catalog}`.`{bronze}`.claims")
    latest_first = Window.partitionBy("claim_no").orderBy(F.col("claim_date").desc_nulls_last())
    dedup = (
        claims.withColumn("_rn", F.row_number().over(latest_first)).filter(F.col("_rn") == 1).drop("_rn")
    )
    dedup.write.mode("overwrite").saveAsTable(f"`{catalog}`.`{silver}`.claims_dedup")
    metrics = dedup_metrics(
        claims.count(), claims.select("claim_no").distinct().count(), spark.table(f"`{catalog}`.`{silver}`.claims_dedup").count()
    )
    for name, value in metrics.items():
        print(f"{name}: {value}")
        ctx.task_values.set(name, value)


create = job.sql(
    "join_tables_create",
    "silver/join_tables_create.sql",
    depends_on=[deduplicate_claims],
    description="claims_dedup JOIN policies JOIN customers -> claims_enriched",
)

metrics = job.sql(
    "join_tables_metrics",
    "silver/join_tables_metrics.sql",
    depends_on=[create],
    # A typed task-value reference: renders {{tasks.deduplicate_claims.values.duplicate_rows_removed}}.
    params={"duplicates_removed": deduplicate_claims.values.duplicate_rows_removed},
    description="volume and uniqueness checks of claims_enriched",
)

# "Task 4 depends on task 2 or on task 3": the sample waits for both, and runs if at least one succeeded.
sample = job.sql(
    "join_tables_sample",
    "silver/join_tables_sample.sql",
    depends_on=[create, metrics],
    run_if=RunIf.AT_LEAST_ONE_SUCCESS,
    vars={"sample_rows": 10},
    description="a 10-row sample of claims_enriched for eyeballing",
)
