-- Foreign keys of the service's schemas ($1), with the columns on both sides
-- in key order (conkey/confkey are parallel arrays). The copies PostgreSQL
-- keeps of a partitioned table's keys (on each partition, or pointing at
-- each partition of the referenced table: conparentid <> 0) are left out.
SELECT n.nspname AS schema_name,
       c.relname AS table_name,
       fn.nspname AS ref_schema,
       fc.relname AS ref_table,
       ARRAY(SELECT a.attname
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord)::text[] AS columns,
       ARRAY(SELECT a.attname
             FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord)::text[] AS ref_columns
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class fc ON fc.oid = con.confrelid
JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.contype = 'f'
  AND con.conparentid = 0
  AND n.nspname = ANY($1::text[])
ORDER BY 1, 2, con.conname
