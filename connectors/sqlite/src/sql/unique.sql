-- Single-column unique indexes of one table (?1), from UNIQUE constraints and
-- CREATE UNIQUE INDEX alike; partial indexes do not make a column unique.
SELECT il.name AS index_name, ii.name AS col
FROM pragma_index_list(?1) AS il
JOIN pragma_index_info(il.name) AS ii
WHERE il."unique" = 1 AND il.origin <> 'pk' AND il.partial = 0
  AND (SELECT COUNT(*) FROM pragma_index_info(il.name)) = 1
