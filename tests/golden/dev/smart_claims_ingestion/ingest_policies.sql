-- policies.csv (landing volume) -> <catalog>.<schema>.policies   [smart_claims_ingestion / ingest_policies, target dev]
DROP TABLE IF EXISTS IDENTIFIER(:catalog || '.' || :schema || '.policies');

CREATE TABLE IDENTIFIER(:catalog || '.' || :schema || '.policies') AS
SELECT *
FROM read_files(
  '/Volumes/smart_claims_dev/00_landing/sql_server/policies.csv',
  format => 'csv',
  header => true
);
