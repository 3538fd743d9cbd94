#!/usr/bin/env bash
# Starts throwaway database servers for the test suite and exports their URLs.
# Source it (`. scripts/test-env.sh`); everything it starts is stopped on exit.
#
#   GATEHOUSE_TEST_POSTGRES_URL   a PostgreSQL 15 superuser-less account with CREATEDB;
#                                 each test creates its own database through it.
#
# Servers already given by the caller (the variable is set) are used as they are.
# With GATEHOUSE_TEST_REQUIRE_ALL=1 (set in CI) a server that cannot start is an error.

GH_RUN=$(mktemp -d -t gatehouse-test.XXXXXX)
chmod 0755 "$GH_RUN"   # server accounts (postgres, mysql) must reach their folders
GH_PIDS_TO_STOP=()

gh_fail_or_warn() {
  if [ "${GATEHOUSE_TEST_REQUIRE_ALL:-0}" = "1" ]; then
    echo "test-env: $1" >&2
    return 1
  fi
  echo "test-env: warning: $1 (tests needing it will be skipped)" >&2
  return 0
}

gh_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

gh_start_postgres() {
  if [ -n "${GATEHOUSE_TEST_POSTGRES_URL:-}" ]; then return 0; fi
  local pgbin=${GATEHOUSE_PG_BIN:-/usr/lib/postgresql/15/bin}
  if [ ! -x "$pgbin/initdb" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "test-env: installing PostgreSQL 15 with apt" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15) >"$GH_RUN/apt.log" 2>&1 || true
  fi
  if [ ! -x "$pgbin/initdb" ]; then
    gh_fail_or_warn "PostgreSQL binaries not found in $pgbin (apt-get install postgresql-15)"; return
  fi
  local port; port=$(gh_free_port)
  local root="$GH_RUN/pg"; mkdir -p "$root"
  local as=()
  if [ "$(id -u)" = "0" ]; then
    chown postgres:postgres "$root"; as=(runuser -u postgres --)
  fi
  "${as[@]}" "$pgbin/initdb" -D "$root/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$root/initdb.log" 2>&1 || { cat "$root/initdb.log" >&2; gh_fail_or_warn "initdb failed"; return; }
  "${as[@]}" "$pgbin/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 30 \
    -o "-p $port -k $root -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$root/server.log" >&2; gh_fail_or_warn "PostgreSQL did not start"; return; }
  GH_STOP_PG=("${as[@]}" "$pgbin/pg_ctl" -D "$root/data" -m fast stop)
  "${as[@]}" "$pgbin/psql" -h "$root" -p "$port" -U postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE USER app WITH PASSWORD 'apppass' CREATEDB;" -c "CREATE DATABASE appdb OWNER app;" >/dev/null
  export GATEHOUSE_TEST_POSTGRES_URL="postgres://app:apppass@127.0.0.1:$port/appdb"
  echo "test-env: PostgreSQL on port $port" >&2
}

gh_stop_all() {
  if [ -n "${GH_STOP_PG:-}" ]; then "${GH_STOP_PG[@]}" >/dev/null 2>&1 || true; fi
  rm -rf "$GH_RUN"
}
trap gh_stop_all EXIT

gh_start_postgres || return 1 2>/dev/null || exit 1
