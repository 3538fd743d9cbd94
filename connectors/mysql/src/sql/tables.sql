-- Tables and views of the connection's database. information_schema text
-- columns are cast to CHAR: MySQL 8 types some of them as binary strings.
-- insert_triggers: the statements of BEFORE INSERT triggers, which may set
-- NEW's columns (read by catalog::trigger_sets).
SELECT CAST(t.TABLE_NAME AS CHAR) AS name,
       CAST(t.TABLE_TYPE AS CHAR) AS kind,
       CAST(t.TABLE_COMMENT AS CHAR) AS description,
       CAST(COALESCE(v.IS_UPDATABLE, 'YES') AS CHAR) AS updatable,
       (SELECT CAST(GROUP_CONCAT(tr.ACTION_STATEMENT SEPARATOR ' ') AS CHAR)
        FROM information_schema.TRIGGERS tr
        WHERE tr.EVENT_OBJECT_SCHEMA = t.TABLE_SCHEMA AND tr.EVENT_OBJECT_TABLE = t.TABLE_NAME
          AND tr.EVENT_MANIPULATION = 'INSERT' AND tr.ACTION_TIMING = 'BEFORE') AS insert_triggers
FROM information_schema.TABLES t
LEFT JOIN information_schema.VIEWS v
  ON v.TABLE_SCHEMA = t.TABLE_SCHEMA AND v.TABLE_NAME = t.TABLE_NAME
WHERE t.TABLE_SCHEMA = DATABASE()
ORDER BY t.TABLE_NAME
