-- A {{ sample_rows | default(10) }}-row sample of claims_enriched   [{{ job.key }} / {{ task.key }}, target {{ target }}]
SELECT *
FROM IDENTIFIER(:catalog || '.' || :schema_silver || '.claims_enriched')
ORDER BY claim_no
LIMIT {{ sample_rows | default(10) }};
