-- The test suite creates a database per test through the app account.
GRANT ALL ON *.* TO 'app'@'%';
FLUSH PRIVILEGES;
