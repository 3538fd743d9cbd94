-- Tables of the exposed schemas. sys.* joins only: OBJECT_NAME and friends are
-- not answered by every TDS peer.
SELECT s.name AS schema_name, t.name AS name, t.object_id AS object_id
FROM sys.tables t
JOIN sys.schemas s ON s.schema_id = t.schema_id
ORDER BY s.name, t.name
