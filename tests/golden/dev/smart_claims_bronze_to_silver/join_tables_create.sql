-- claims_enriched = claims_dedup JOIN policies JOIN customers   [smart_claims_bronze_to_silver / join_tables_create, target dev]
-- The lesson's failure drill: a run with simulate_failure=true fails here; repair it with simulate_failure=false.
SELECT assert_true(:simulate_failure <> 'true', 'simulated failure (job parameter simulate_failure=true)');

CREATE OR REPLACE TABLE IDENTIFIER(:catalog || '.' || :schema_silver || '.claims_enriched') AS
SELECT
  c.*,
  p.* EXCEPT (POLICY_NO, _rescued_data),
  cu.* EXCEPT (customer_id, _rescued_data),
  current_timestamp() AS processed_at
FROM IDENTIFIER(:catalog || '.' || :schema_silver || '.claims_dedup') AS c
JOIN IDENTIFIER(:catalog || '.' || :schema_bronze || '.policies') AS p
  ON c.policy_no = p.POLICY_NO
JOIN IDENTIFIER(:catalog || '.' || :schema_bronze || '.customers') AS cu
  ON p.CUST_ID = cu.customer_id;
