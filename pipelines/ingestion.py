"""Job 1 - ingestion (landing volume CSVs -> bronze): three independent tasks that may run in parallel.

- ``ingest_claims``: a PySpark script reading every ``claims*.csv`` (the glob picks up new files);
- ``ingest_customers`` / ``ingest_policies``: SQL files rendered from ``sql_templates/ingestion/``.

It runs when new files arrive in the landing volume of the target's catalog.
"""

from flowdef import Environment, FileArrival, Job

serverless = Environment("default", version="3")

job = Job(
    "smart_claims_ingestion",
    description="Smart claims: load claims, customers and policies CSVs from the landing volume into bronze.",
    params={"catalog": "smart_claims_dev", "schema": "01_bronze"},
    tags={"domain": "insurance", "layer": "bronze"},
    # A trigger fires before any run exists: {{job.parameters.catalog}} here becomes the target's default.
    trigger=FileArrival(
        "/Volumes/{{job.parameters.catalog}}/00_landing/sql_server/",
        min_time_between_triggers=300,
        wait_after_last_change=120,
    ),
    compute=serverless,
    max_concurrent_runs=1,
)

claims = job.python_file(
    "ingest_claims",
    "pipelines/scripts/ingestion_claim.py",
    params={"catalog": job.params.catalog, "schema": job.params.schema},
    description="claims*.csv -> <catalog>.<schema>.claims (PySpark)",
)

customers = job.sql(
    "ingest_customers",
    "ingestion/customers.sql",
    description="customers.csv -> <catalog>.<schema>.customers",
)

policies = job.sql(
    "ingest_policies",
    "ingestion/policies.sql",
    description="policies.csv -> <catalog>.<schema>.policies",
)
