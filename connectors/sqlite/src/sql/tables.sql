-- Tables and views of the database, without SQLite's own tables.
-- Output: name, type ('table' | 'view').
SELECT name, type
FROM sqlite_schema
WHERE type IN ('table', 'view')
  AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY name
