-- Primary keys and unique constraints/indexes with their columns in key order.
SELECT i.object_id AS object_id, i.name AS name, i.is_primary_key AS is_primary_key,
       c.name AS col, CAST(ic.key_ordinal AS int) AS ordinal
FROM sys.indexes i
JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE (i.is_primary_key = 1 OR i.is_unique = 1) AND ic.key_ordinal > 0
ORDER BY i.object_id, i.name, ic.key_ordinal
