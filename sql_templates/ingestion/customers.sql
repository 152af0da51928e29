-- customers.csv (landing volume) -> <catalog>.<schema>.customers   [{{ job.key }} / {{ task.key }}, target {{ target }}]
-- Run-time parameters arrive as named markers (:catalog, :schema); the volume path is fixed per target at
-- compile time because read_files() takes a constant path.
DROP TABLE IF EXISTS IDENTIFIER(:catalog || '.' || :schema || '.customers');

CREATE TABLE IDENTIFIER(:catalog || '.' || :schema || '.customers') AS
SELECT *
FROM read_files(
  '/Volumes/{{ params.catalog }}/00_landing/sql_server/customers.csv',
  format => 'csv',
  header => true
);
