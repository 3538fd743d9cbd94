-- Columns of every relation in the service's schemas ($1), in table order.
-- db_type keeps modifiers (numeric(10,2)); cast_type drops them, for casting
-- bound parameters without rounding or cutting them. Without its modifier
-- `character` is character(1) and `bit` is bit(1), which would keep one
-- character of a value: their unbounded kin (bpchar, varbit) are cast to
-- instead, and the column's own length check refuses a value too long. Domains report their base type so
-- the API type follows the underlying data. typmod carries length/precision.
-- A default cannot name a column, so it is spelled without the table's
-- context (pg_get_expr with a relation looks the relation up on every call);
-- a generated column's expression can, and gets it. Comments are joined.
SELECT n.nspname AS schema_name,
       c.relname AS table_name,
       a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS db_type,
       CASE t.typname
            WHEN 'bpchar' THEN 'bpchar' WHEN '_bpchar' THEN 'bpchar[]'
            WHEN 'bit' THEN 'varbit' WHEN '_bit' THEN 'varbit[]'
            ELSE format_type(a.atttypid, NULL) END AS cast_type,
       COALESCE(bt.typname, t.typname)::text AS base_type,
       COALESCE(bt.typcategory, t.typcategory)::text AS category,
       COALESCE(bt.typtype, t.typtype)::text AS typtype,
       NOT a.attnotnull AS allow_null,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, 0)
            ELSE pg_get_expr(d.adbin, d.adrelid) END AS default_expr,
       a.attidentity <> '' AS is_identity,
       a.attidentity = 'a' AS identity_always,
       a.attgenerated <> '' AS is_generated,
       a.atttypmod AS typmod,
       (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e
        WHERE e.enumtypid = COALESCE(bt.oid, t.oid)) AS enum_values,
       ds.description
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_description ds
       ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = a.attnum
WHERE n.nspname = ANY($1::text[])
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY 1, 2, a.attnum
