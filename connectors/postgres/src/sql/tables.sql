-- Tables, partitioned tables, views, materialized views and foreign tables of
-- the service's schemas ($1). pg_relation_is_updatable returns a bit mask of
-- the commands a relation accepts (4 UPDATE, 8 INSERT, 16 DELETE), which tells
-- auto-updatable views (and views with INSTEAD OF triggers) from read-only ones.
-- Relations the connecting role may not read are left out: they could only fail.
SELECT n.nspname AS schema_name,
       c.relname AS name,
       c.relkind::text AS kind,
       obj_description(c.oid, 'pg_class') AS description,
       (pg_relation_is_updatable(c.oid::regclass, true) & 28) <> 0 AS writable
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1::text[])
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY 1, 2
