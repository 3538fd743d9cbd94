#!/usr/bin/env bash
# Points the test suite at the servers of docker/compose.yaml. Source it, then
# run tools/test.sh: servers given here are used instead of local ones.
export GATEHOUSE_TEST_POSTGRES_URL="postgres://app:apppass@127.0.0.1:55432/appdb"
export GATEHOUSE_TEST_MYSQL_URL="mysql://app:apppass@127.0.0.1:53306/appdb"
export GATEHOUSE_TEST_MONGODB_URL="mongodb://127.0.0.1:57017/?directConnection=true"
export GATEHOUSE_TEST_SQLSERVER_URL="sqlserver://sa:Gatehouse-Test-1@127.0.0.1:51433/appdb?trust_server_certificate=true"
# MariaDB of the compose file, for a second run: GATEHOUSE_TEST_MYSQL_URL=mysql://app:apppass@127.0.0.1:53307/appdb
