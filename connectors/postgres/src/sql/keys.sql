-- Primary keys and unique indexes (constraints and CREATE UNIQUE INDEX alike),
-- one row per index with its columns in key order. Partial and expression
-- indexes do not make a column unique for every row, so they are left out.
SELECT n.nspname AS schema_name,
       c.relname AS table_name,
       i.indisprimary AS is_primary,
       ARRAY(SELECT a.attname
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             ORDER BY k.ord)::text[] AS columns
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1::text[])
  AND i.indisunique
  AND i.indpred IS NULL
  AND i.indexprs IS NULL
ORDER BY 1, 2, i.indisprimary DESC
