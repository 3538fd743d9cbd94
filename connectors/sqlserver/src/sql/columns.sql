-- Columns with their type, nullability, identity and computed flags.
-- max_length is in bytes (-1 for MAX; nvarchar counts two per character).
SELECT c.object_id AS object_id, c.name AS name, ty.name AS type_name,
       CAST(c.max_length AS int) AS max_length, CAST(c.precision AS int) AS num_precision,
       CAST(c.scale AS int) AS num_scale, c.is_nullable AS is_nullable,
       c.is_identity AS is_identity, c.is_computed AS is_computed,
       CAST(c.column_id AS int) AS column_id
FROM sys.columns c
JOIN sys.types ty ON ty.user_type_id = c.user_type_id
ORDER BY c.object_id, c.column_id
