-- Every column of the database's tables and views, in table order.
-- EXTRA holds auto_increment and VIRTUAL/STORED GENERATED; COLUMN_TYPE the
-- full type (`tinyint(1)`, `int unsigned`, `decimal(10,2)`).
SELECT CAST(c.TABLE_NAME AS CHAR) AS table_name,
       CAST(c.COLUMN_NAME AS CHAR) AS name,
       CAST(c.DATA_TYPE AS CHAR) AS data_type,
       CAST(c.COLUMN_TYPE AS CHAR) AS column_type,
       CAST(c.IS_NULLABLE AS CHAR) AS nullable,
       CAST(c.COLUMN_DEFAULT AS CHAR) AS dflt,
       CAST(c.EXTRA AS CHAR) AS extra,
       CAST(c.COLUMN_KEY AS CHAR) AS col_key,
       CAST(c.CHARACTER_MAXIMUM_LENGTH AS SIGNED) AS length,
       CAST(c.NUMERIC_PRECISION AS SIGNED) AS num_precision,
       CAST(c.NUMERIC_SCALE AS SIGNED) AS num_scale,
       CAST(c.COLUMN_COMMENT AS CHAR) AS description
FROM information_schema.COLUMNS c
WHERE c.TABLE_SCHEMA = DATABASE()
ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION
