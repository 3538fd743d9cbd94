#!/usr/bin/env bash
# Starts throwaway database servers for the test suite and exports their URLs.
# Source it (`. tools/test-env.sh`); everything it starts is stopped on exit.
#
#   GATEHOUSE_TEST_POSTGRES_URL   a PostgreSQL 15 superuser-less account with CREATEDB;
#                                 each test creates its own database through it.
#   GATEHOUSE_TEST_MYSQL_URL      MariaDB (apt) account with CREATE on every database.
#   GATEHOUSE_TEST_MONGODB_URL    SecantusDB (PyPI), a MongoDB wire-protocol server.
#   GATEHOUSE_TEST_MONGODB2_URL   NX-27017 (PyPI), a second, quirkier wire-protocol server.
#   GATEHOUSE_TEST_SQLSERVER_BRIDGE_URL
#                                 pySQLbridge (PyPI): SQL Server's protocol, read-only,
#                                 serving tests/fixtures/sqlserver-bridge/.
#   GATEHOUSE_TEST_WEBDRIVER_URL  chromedriver (apt), driving headless Chromium.
#   GATEHOUSE_TEST_SQLSERVER_URL  never started here (no SQL Server runs on this
#                                 machine); set it to a real server (docker/compose.yaml)
#                                 and the full suite runs against it.
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

gh_start_mariadb() {
  if [ -n "${GATEHOUSE_TEST_MYSQL_URL:-}" ]; then return 0; fi
  if ! command -v mariadbd >/dev/null && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "test-env: installing MariaDB with apt" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server) >"$GH_RUN/apt-mariadb.log" 2>&1 || true
  fi
  if ! command -v mariadbd >/dev/null; then
    gh_fail_or_warn "mariadbd not found (apt-get install mariadb-server)"; return
  fi
  local port; port=$(gh_free_port)
  local root="$GH_RUN/mariadb"; mkdir -p "$root"
  local user=(); if [ "$(id -u)" = "0" ]; then chown mysql:mysql "$root"; user=(--user=mysql); fi
  mariadb-install-db --no-defaults "${user[@]}" --datadir="$root/data" \
    --auth-root-authentication-method=socket --skip-test-db >"$root/install.log" 2>&1 \
    || { cat "$root/install.log" >&2; gh_fail_or_warn "mariadb-install-db failed"; return; }
  # output redirected: an inherited pipe would keep CI waiting
  mariadbd --no-defaults "${user[@]}" --datadir="$root/data" --port="$port" --bind-address=127.0.0.1 \
    --socket="$root/mysql.sock" --pid-file="$root/mariadbd.pid" --log-error="$root/error.log" \
    --skip-name-resolve --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=0 \
    --max-connections=500 --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    >"$root/stdout.log" 2>&1 </dev/null &
  GH_MARIADB_SOCK="$root/mysql.sock"
  local i
  for i in $(seq 120); do
    mariadb-admin --no-defaults --socket="$root/mysql.sock" -uroot ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  mariadb --no-defaults --socket="$root/mysql.sock" -uroot -e "CREATE DATABASE appdb;
    CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'apppass'; GRANT ALL ON *.* TO 'app'@'127.0.0.1'; FLUSH PRIVILEGES;" \
    || { cat "$root/error.log" >&2; gh_fail_or_warn "MariaDB did not start"; return; }
  export GATEHOUSE_TEST_MYSQL_URL="mysql://app:apppass@127.0.0.1:$port/appdb"
  echo "test-env: MariaDB on port $port" >&2
}

# The PyPI servers and tools live in one venv under target/ (reused between local runs).
GH_VENV="$(pwd)/target/test-venv"
GH_PY_PKGS=(secantusdb==0.7.0b3 nx-27017==0.8.1 pysqlbridge==2.1.3 openapi-spec-validator==0.9.0 schemathesis==4.32.5 openapi-python-client==0.26.2)
gh_venv() {
  local stamp="$GH_VENV/.gatehouse-${GH_PY_PKGS[*]// /_}"
  if [ -f "$stamp" ]; then return 0; fi
  rm -rf "$GH_VENV"
  python3 -m venv "$GH_VENV" && "$GH_VENV/bin/pip" install -q "${GH_PY_PKGS[@]}" >"$GH_RUN/pip.log" 2>&1 \
    && touch "$stamp" || { cat "$GH_RUN/pip.log" >&2; return 1; }
}

# Waits until something accepts connections on 127.0.0.1:$1.
gh_wait_port() {
  local i
  for i in $(seq 100); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 0.5)" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

gh_start_mongo() {
  if [ -n "${GATEHOUSE_TEST_MONGODB_URL:-}" ]; then return 0; fi
  gh_venv || { gh_fail_or_warn "could not install the MongoDB wire servers from PyPI"; return; }
  local p1 p2; p1=$(gh_free_port); p2=$(gh_free_port)
  "$GH_VENV/bin/secantusd-py" --host 127.0.0.1 --port "$p1" --storage-path :memory: --cache-size 256M \
    >"$GH_RUN/secantus.log" 2>&1 </dev/null &
  GH_PIDS_TO_STOP+=($!)
  "$GH_VENV/bin/nx-27017" --host 127.0.0.1 -p "$p2" --data-dir memory --log-file "$GH_RUN/nx.log" \
    --pid-file "$GH_RUN/nx.pid" >"$GH_RUN/nx.stdout" 2>&1 </dev/null &
  GH_PIDS_TO_STOP+=($!)
  gh_wait_port "$p1" || { cat "$GH_RUN/secantus.log" >&2; gh_fail_or_warn "SecantusDB did not start"; return; }
  gh_wait_port "$p2" || { cat "$GH_RUN/nx.stdout" >&2; gh_fail_or_warn "NX-27017 did not start"; return; }
  export GATEHOUSE_TEST_MONGODB_URL="mongodb://127.0.0.1:$p1/?directConnection=true"
  export GATEHOUSE_TEST_MONGODB2_URL="mongodb://127.0.0.1:$p2/?directConnection=true"
  echo "test-env: SecantusDB on port $p1, NX-27017 on port $p2" >&2
}

gh_start_sqlserver_bridge() {
  if [ -n "${GATEHOUSE_TEST_SQLSERVER_BRIDGE_URL:-}" ]; then return 0; fi
  gh_venv || { gh_fail_or_warn "could not install pySQLbridge from PyPI"; return; }
  local port; port=$(gh_free_port)
  local dir; dir="$(pwd)/tests/fixtures/sqlserver-bridge"
  (cd "$dir" && BRIDGE_APP_PW=apppass exec "$GH_VENV/bin/pysqlbridge" --host 127.0.0.1 --port "$port" \
    --config bridge.json >"$GH_RUN/bridge.log" 2>&1 </dev/null) &
  GH_PIDS_TO_STOP+=($!)
  gh_wait_port "$port" || { cat "$GH_RUN/bridge.log" >&2; gh_fail_or_warn "pySQLbridge did not start"; return; }
  export GATEHOUSE_TEST_SQLSERVER_BRIDGE_URL="sqlserver://app:apppass@127.0.0.1:$port/bridge?trust_server_certificate=true"
  echo "test-env: pySQLbridge on port $port" >&2
}

# Independent tools for the generated documents: an OpenAPI 3.1 validator and
# schemathesis (property-based requests checked against the document).
gh_openapi_tools() {
  if [ -n "${GATEHOUSE_TEST_OPENAPI_VALIDATOR:-}" ]; then return 0; fi
  gh_venv || { gh_fail_or_warn "could not install openapi-spec-validator and schemathesis from PyPI"; return; }
  export GATEHOUSE_TEST_OPENAPI_VALIDATOR="$GH_VENV/bin/openapi-spec-validator"
  export GATEHOUSE_TEST_SCHEMATHESIS="$GH_VENV/bin/schemathesis"
  export GATEHOUSE_TEST_OPENAPI_PYTHON_CLIENT="$GH_VENV/bin/openapi-python-client"
}

# Headless Chromium and its WebDriver (Debian's chromium, chromium-driver), for
# the Swagger UI page at /docs.
gh_start_chromedriver() {
  if [ -n "${GATEHOUSE_TEST_WEBDRIVER_URL:-}" ]; then return 0; fi
  if ! command -v chromedriver >/dev/null && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "test-env: installing Chromium and chromedriver with apt" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) \
      >"$GH_RUN/apt-chromium.log" 2>&1 || true
  fi
  if ! command -v chromedriver >/dev/null; then
    gh_fail_or_warn "chromedriver not found (apt-get install chromium chromium-driver)"; return
  fi
  local port; port=$(gh_free_port)
  chromedriver --port="$port" >"$GH_RUN/chromedriver.log" 2>&1 </dev/null &
  GH_PIDS_TO_STOP+=($!)
  gh_wait_port "$port" || { cat "$GH_RUN/chromedriver.log" >&2; gh_fail_or_warn "chromedriver did not start"; return; }
  export GATEHOUSE_TEST_WEBDRIVER_URL="http://127.0.0.1:$port"
  echo "test-env: chromedriver on port $port" >&2
}

gh_stop_all() {
  if [ -n "${GH_STOP_PG:-}" ]; then "${GH_STOP_PG[@]}" >/dev/null 2>&1 || true; fi
  if [ -n "${GH_MARIADB_SOCK:-}" ]; then
    mariadb-admin --no-defaults --socket="$GH_MARIADB_SOCK" -uroot shutdown >/dev/null 2>&1 || true
  fi
  local pid
  for pid in "${GH_PIDS_TO_STOP[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$GH_RUN"
}
trap gh_stop_all EXIT

# GATEHOUSE_TEST_SERVERS narrows what starts (bench/run.sh asks for "postgres").
GH_WANT=" ${GATEHOUSE_TEST_SERVERS:-postgres mariadb mongo sqlserver-bridge openapi-tools browser} "
gh_wanted() { [[ "$GH_WANT" == *" $1 "* ]]; }
if gh_wanted postgres; then gh_start_postgres || return 1 2>/dev/null || exit 1; fi
if gh_wanted mariadb; then gh_start_mariadb || return 1 2>/dev/null || exit 1; fi
if gh_wanted mongo; then gh_start_mongo || return 1 2>/dev/null || exit 1; fi
if gh_wanted sqlserver-bridge; then gh_start_sqlserver_bridge || return 1 2>/dev/null || exit 1; fi
if gh_wanted openapi-tools; then gh_openapi_tools || return 1 2>/dev/null || exit 1; fi
if gh_wanted browser; then gh_start_chromedriver || return 1 2>/dev/null || exit 1; fi
