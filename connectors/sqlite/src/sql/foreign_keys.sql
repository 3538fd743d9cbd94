-- Foreign keys of one table (?1), one row per column pair; id groups the
-- columns of one key and seq orders them. "to" is NULL when the key
-- references the parent's primary key implicitly.
SELECT id, seq, "table" AS ref_table, "from" AS col, "to" AS ref_col
FROM pragma_foreign_key_list(?1)
ORDER BY id, seq
