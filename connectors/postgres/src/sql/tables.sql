-- Tables, partitioned tables, views, materialized views and foreign tables of
-- the service's schemas ($1). pg_relation_is_updatable returns a bit mask of
-- the commands a relation accepts (4 UPDATE, 8 INSERT, 16 DELETE), which tells
-- auto-updatable views (and views with INSTEAD OF triggers) from read-only ones.
-- Relations the connecting role may not read are left out: they could only fail.
-- Tables are always writable, so only views and foreign tables are asked (the
-- call costs a catalog lookup per relation); comments are joined, not looked
-- up one by one (obj_description), which matters with thousands of tables.
-- insert_triggers: the source and arguments of the enabled row triggers
-- that run BEFORE INSERT (tgtype bits: 1 row, 2 before, 4 insert), which may
-- set the new row's columns (read by catalog::trigger_sets).
SELECT n.nspname AS schema_name,
       c.relname AS name,
       c.relkind::text AS kind,
       ds.description,
       c.relkind IN ('r', 'p')
         OR (pg_relation_is_updatable(c.oid::regclass, true) & 28) <> 0 AS writable,
       (SELECT string_agg(p.prosrc || ' ' || encode(tg.tgargs, 'escape'), ' ')
        FROM pg_trigger tg JOIN pg_proc p ON p.oid = tg.tgfoid
        WHERE tg.tgrelid = c.oid AND NOT tg.tgisinternal AND tg.tgenabled <> 'D'
          AND (tg.tgtype & 7) = 7) AS insert_triggers
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description ds
       ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
WHERE n.nspname = ANY($1::text[])
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY 1, 2
