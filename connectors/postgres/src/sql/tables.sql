-- Tables, partitioned tables, views, materialized views and foreign tables of
-- the service's schemas ($1). pg_relation_is_updatable returns a bit mask of
-- the commands a relation accepts (4 UPDATE, 8 INSERT, 16 DELETE), which tells
-- auto-updatable views (and views with INSTEAD OF triggers) from read-only ones.
-- Relations the connecting role may not read are left out: they could only fail.
-- Tables are always writable, so only views and foreign tables are asked (the
-- call costs a catalog lookup per relation); comments are joined, not looked
-- up one by one (obj_description), which matters with thousands of tables.
SELECT n.nspname AS schema_name,
       c.relname AS name,
       c.relkind::text AS kind,
       ds.description,
       c.relkind IN ('r', 'p')
         OR (pg_relation_is_updatable(c.oid::regclass, true) & 28) <> 0 AS writable
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description ds
       ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
WHERE n.nspname = ANY($1::text[])
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY 1, 2
