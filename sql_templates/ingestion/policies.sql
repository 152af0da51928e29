-- policies.csv (landing volume) -> <catalog>.<schema>.policies   [{{ job.key }} / {{ task.key }}, target {{ target }}]
DROP TABLE IF EXISTS IDENTIFIER(:catalog || '.' || :schema || '.policies');

CREATE TABLE IDENTIFIER(:catalog || '.' || :schema || '.policies') AS
SELECT *
FROM read_files(
  '/Volumes/{{ params.catalog }}/00_landing/sql_server/policies.csv',
  format => 'csv',
  header => true
);
