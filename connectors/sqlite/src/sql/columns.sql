-- Columns of one table or view (?1 = its name), in declaration order.
-- pragma_table_xinfo also lists generated columns: hidden = 2 (virtual) or 3 (stored);
-- hidden = 1 marks hidden columns of virtual tables, which we skip.
-- pk is the 1-based position of the column in the primary key, 0 when not part of it.
SELECT name, type, "notnull", dflt_value, pk, hidden
FROM pragma_table_xinfo(?1)
WHERE hidden <> 1
ORDER BY cid
