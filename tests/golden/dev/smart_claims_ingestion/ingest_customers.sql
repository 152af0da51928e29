-- customers.csv (landing volume) -> <catalog>.<schema>.customers   [smart_claims_ingestion / ingest_customers, target dev]
-- Run-time parameters arrive as named markers (:catalog, :schema); the volume path is fixed per target at
-- compile time because read_files() takes a constant path.
DROP TABLE IF EXISTS IDENTIFIER(:catalog || '.' || :schema || '.customers');

CREATE TABLE IDENTIFIER(:catalog || '.' || :schema || '.customers') AS
SELECT *
FROM read_files(
  '/Volumes/smart_claims_dev/00_landing/sql_server/customers.csv',
  format => 'csv',
  header => true
);
