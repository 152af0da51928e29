-- A 10-row sample of claims_enriched   [smart_claims_bronze_to_silver / join_tables_sample, target prod]
SELECT *
FROM IDENTIFIER(:catalog || '.' || :schema_silver || '.claims_enriched')
ORDER BY claim_no
LIMIT 10;
