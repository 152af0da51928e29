"""Ingest every claims*.csv of the landing volume into <catalog>.<schema>.claims (PySpark).

Run by Databricks as a Python file task with ``--catalog <catalog> --schema <schema>``; the lesson's widget or
environment-variable fallbacks (CATALOG, SCHEMA) are kept for running it by hand.
"""

import argparse
import os


def _arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog", default=os.environ.get("CATALOG"))
    parser.add_argument("--schema", default=os.environ.get("SCHEMA"))
    args, _unknown = parser.parse_known_args(argv)
    if not args.catalog or not args.schema:
        parser.error("--catalog and --schema are required (or set CATALOG and SCHEMA)")
    return args


def main(spark, catalog: str, schema: str) -> int:
    volume_path = f"/Volumes/{catalog}/00_landing/sql_server/claims*.csv"
    target_table = f"`{catalog}`.`{schema}`.claims"
    spark.sql(f"DROP TABLE IF EXISTS {target_table}")
    claims_df = spark.read.format("csv").option("header", "true").load(volume_path)
    claims_df.write.mode("overwrite").saveAsTable(target_table)
    rows = spark.table(target_table).count()
    print(f"ingested {rows} claims into {target_table}")
    return rows


if __name__ == "__main__":
    from pyspark.sql import SparkSession

    arguments = _arguments()
    main(SparkSession.builder.getOrCreate(), arguments.catalog, arguments.schema)
