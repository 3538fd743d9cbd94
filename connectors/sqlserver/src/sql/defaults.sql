SELECT d.parent_object_id AS object_id, CAST(d.parent_column_id AS int) AS column_id, d.definition AS definition
FROM sys.default_constraints d
