-- Tables and views of the connection's database. information_schema text
-- columns are cast to CHAR: MySQL 8 types some of them as binary strings.
SELECT CAST(t.TABLE_NAME AS CHAR) AS name,
       CAST(t.TABLE_TYPE AS CHAR) AS kind,
       CAST(t.TABLE_COMMENT AS CHAR) AS description,
       CAST(COALESCE(v.IS_UPDATABLE, 'YES') AS CHAR) AS updatable
FROM information_schema.TABLES t
LEFT JOIN information_schema.VIEWS v
  ON v.TABLE_SCHEMA = t.TABLE_SCHEMA AND v.TABLE_NAME = t.TABLE_NAME
WHERE t.TABLE_SCHEMA = DATABASE()
ORDER BY t.TABLE_NAME
