-- Views of the exposed schemas (read through the API; writable when SQL Server
-- can update them is not known from the catalog, so they are read-only).
SELECT s.name AS schema_name, v.name AS name, v.object_id AS object_id
FROM sys.views v
JOIN sys.schemas s ON s.schema_id = v.schema_id
ORDER BY s.name, v.name
