-- Volume and uniqueness of claims_enriched   [smart_claims_bronze_to_silver / join_tables_metrics, target dev]
-- :duplicates_removed is the dedup task's task value, passed as a task parameter.
SELECT
  COUNT(*)                              AS total_rows,
  COUNT(DISTINCT claim_no)              AS unique_claims,
  COUNT(*) - COUNT(DISTINCT claim_no)   AS extra_rows_from_policy_duplicates,
  CAST(:duplicates_removed AS BIGINT)   AS duplicates_removed_by_dedup
FROM IDENTIFIER(:catalog || '.' || :schema_silver || '.claims_enriched');
