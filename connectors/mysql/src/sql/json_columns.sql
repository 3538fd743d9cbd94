-- MariaDB's JSON is LONGTEXT with a json_valid() check named after the column;
-- this finds those checks (MySQL 8 has a real JSON type and none of them).
SELECT CAST(TABLE_NAME AS CHAR) AS table_name,
       CAST(CONSTRAINT_NAME AS CHAR) AS name,
       CAST(CHECK_CLAUSE AS CHAR) AS clause
FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE()
  AND CHECK_CLAUSE LIKE 'json_valid(%'
