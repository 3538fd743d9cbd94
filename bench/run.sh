#!/usr/bin/env bash
# Gatehouse's benchmark (bench/README.md): Gatehouse against a hand-written
# reference server on the same PostgreSQL, in one invocation.
#
#   bench/run.sh [all|api|export|catalog|hold]     (default: all; hold keeps both servers
#                                                up for another load generator)
#
# Environment: BENCH_DURATION (seconds per run, 10), BENCH_ROUNDS (alternating
# rounds per scenario, 3), BENCH_CONNECTIONS (16), BENCH_EXPORT_ROWS (1000000),
# BENCH_CATALOG_TABLES (5000), BENCH_SERVER_CPU (1), BENCH_LOAD_CPU (0),
# BENCH_DB_CPU (PostgreSQL's core; the load's by default, so the servers' core is theirs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WHAT=${1:-all}
DURATION=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNECTIONS:-16}
EXPORT_ROWS=${BENCH_EXPORT_ROWS:-1000000}
CATALOG_TABLES=${BENCH_CATALOG_TABLES:-5000}
SERVER_CPU=${BENCH_SERVER_CPU:-1}
LOAD_CPU=${BENCH_LOAD_CPU:-0}
DB_CPU=${BENCH_DB_CPU:-$LOAD_CPU}
export BENCH_WRK_DIR="$ROOT/bench/wrk"

say() { printf '%s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    say "bench: installing wrk with apt"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null
  else
    say "bench: wrk not found (apt-get install wrk)"; exit 1
  fi
fi
say "bench: building Gatehouse and the reference (release)"
cargo build --release --quiet --bin gatehouse
CARGO_TARGET_DIR="$ROOT/target" cargo build --release --quiet --manifest-path bench/reference/Cargo.toml
GATEHOUSE="$ROOT/target/release/gatehouse"
REFERENCE="$ROOT/target/release/gatehouse-bench-reference"

# --- PostgreSQL and the data -------------------------------------------------
GATEHOUSE_TEST_SERVERS=postgres . tools/test-env.sh
PG_URL=$GATEHOUSE_TEST_POSTGRES_URL          # postgres://app:apppass@127.0.0.1:PORT/appdb
PG_BASE=${PG_URL%/*}
# PostgreSQL on its core: backends fork from the postmaster and inherit it.
# Left free to roam, backends land on the server's core and stall it (and
# with it some requests, for hundreds of milliseconds).
PG_PID=$(head -1 "$GH_RUN/pg/data/postmaster.pid")
for pid in "$PG_PID" $(pgrep -P "$PG_PID"); do taskset -pc "$DB_CPU" "$pid" >/dev/null; done
BENCH_DIR="$GH_RUN/bench"; mkdir -p "$BENCH_DIR"
BENCH_PIDS=()
bench_stop() {
  # the servers' logs and wrk's output stay for a look after the run
  mkdir -p "$ROOT/target/bench-last" && cp "$BENCH_DIR"/*.log "$ROOT/target/bench-last/" 2>/dev/null || true
  local pid
  for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  gh_stop_all
}
trap bench_stop EXIT

psql_q() { psql "$1" -v ON_ERROR_STOP=1 -q -X "${@:2}"; }

psql_q "$PG_URL" -c "CREATE DATABASE chinook"
CHINOOK_SQL=../shared/data/chinook/Chinook_PostgreSql_AutoIncrementPKs.sql
if [ -f "$CHINOOK_SQL" ]; then
  DATASET="Chinook (../shared/data/chinook)"
  # the file makes and enters its own database; load it into ours instead
  grep -v -E '^(DROP DATABASE|CREATE DATABASE|\\c )' "$CHINOOK_SQL" | psql_q "$PG_BASE/chinook" >/dev/null
else
  DATASET="generated, Chinook-shaped"
  psql_q "$PG_BASE/chinook" -f bench/generate-chinook.sql >/dev/null
fi
psql_q "$PG_BASE/chinook" -c "SET client_min_messages = error" -c "ANALYZE"
TRACKS=$(psql_q "$PG_BASE/chinook" -At -c "SELECT max(track_id) FROM track")
GENRES=$(psql_q "$PG_BASE/chinook" -At -c "SELECT max(genre_id) FROM genre")
export BENCH_TRACKS=$TRACKS BENCH_GENRES=$GENRES
say "bench: dataset $DATASET, $TRACKS tracks"

# --- the servers ---------------------------------------------------------------
wait_http() {
  local i
  for i in $(seq 200); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  say "bench: nothing answers at $1"; return 1
}

REF_PORT=$(gh_free_port)
REFERENCE_DATABASE_URL="$PG_BASE/chinook" REFERENCE_LISTEN="127.0.0.1:$REF_PORT" \
  taskset -c "$SERVER_CPU" "$REFERENCE" >"$BENCH_DIR/reference.log" 2>&1 </dev/null &
BENCH_PIDS+=($!)
REF="http://127.0.0.1:$REF_PORT"

GH_PORT=$(gh_free_port)
ADMIN_KEY="bench-admin-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
GATEHOUSE_ADMIN_KEY=$ADMIN_KEY GATEHOUSE_ADMIN_PASSWORD="bench-admin-password" \
  taskset -c "$SERVER_CPU" "$GATEHOUSE" serve --listen "127.0.0.1:$GH_PORT" \
  --data-dir "$BENCH_DIR/gatehouse-data" --policies-dir "$ROOT/bench/policies" \
  --scripts-dir "$BENCH_DIR/scripts" >"$BENCH_DIR/gatehouse.log" 2>&1 </dev/null &
GH_PID=$!
BENCH_PIDS+=($GH_PID)
GH="http://127.0.0.1:$GH_PORT"
mkdir -p "$BENCH_DIR/scripts"
wait_http "$REF/api/chinook/_table/track/1"
wait_http "$GH/api"

admin() { curl -sf -H "X-API-Key: $ADMIN_KEY" -H "Content-Type: application/json" "$@"; }
admin "$GH/api/system/service" -d "{\"name\": \"chinook\", \"type\": \"postgres\",
  \"config\": {\"url\": \"$PG_BASE/chinook\", \"max_records\": 1000000}}" >/dev/null
BENCH_API_KEY=$(admin "$GH/api/system/app" -d '{"name": "bench", "role": "bench"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
export BENCH_API_KEY

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# Samples Gatehouse's RSS every 100 ms into $BENCH_DIR/rss while it runs.
rss_watch_start() {
  (while kill -0 "$GH_PID" 2>/dev/null; do rss_kib "$GH_PID"; sleep 0.1; done) >"$BENCH_DIR/rss.$1" &
  RSS_WATCH=$!
}
rss_watch_stop() { kill "$RSS_WATCH" 2>/dev/null || true; wait "$RSS_WATCH" 2>/dev/null || true; }
rss_max() { sort -n "$BENCH_DIR/rss.$1" | tail -1; }

# --- API scenarios ---------------------------------------------------------------
# name | wrk script | extra environment
# (reads first: the inserts grow the table the reads use)
SCENARIOS=(
  "by_id|by_id.lua|"
  "list_20|list20.lua|"
  "list_1000|list1000.lua|"
  "list_20_count|list20.lua|BENCH_COUNT=1"
  "insert_1|insert.lua|BENCH_BATCH=1"
  "insert_20|insert.lua|BENCH_BATCH=20"
)

# Prints "req/s p50_ms p99_ms errors" for one wrk run against $1.
run_wrk() {
  local base=$1 script=$2 extra=$3 secs=$4 out
  out=$(env $extra taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${secs}s" --latency \
    -s "$BENCH_WRK_DIR/$script" "$base" 2>&1)
  echo "$out" >>"$BENCH_DIR/wrk.log"
  echo "$out" | python3 "$ROOT/bench/wrk-summary.py"
}


median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

check_answers() {
  # the same request must succeed on both before it is timed
  local path
  for path in "/api/chinook/_table/track/1" "/api/chinook/_table/track?filter=genre_id%20%3D%201&order=name&limit=20&include_count=true"; do
    for base in "$REF" "$GH"; do
      curl -sf -H "X-API-Key: $BENCH_API_KEY" "$base$path" >/dev/null \
        || { say "bench: $base$path failed"; exit 1; }
    done
  done
  local body='{"resource":[{"name":"Check","album_id":1,"media_type_id":1,"genre_id":1,"composer":null,"milliseconds":1,"bytes":null,"unit_price":0.99}]}'
  for base in "$REF" "$GH"; do
    curl -s -H "X-API-Key: $BENCH_API_KEY" -H "Content-Type: application/json" -d "$body" \
      -w ' %{http_code}' "$base/api/chinook/_table/track" | grep -q ' 201$' \
      || { say "bench: insert on $base failed: $(curl -s -H "X-API-Key: $BENCH_API_KEY" \
             -H "Content-Type: application/json" -d "$body" "$base/api/chinook/_table/track")"; exit 1; }
  done
}

bench_api() {
  check_answers
  RSS_IDLE=$(rss_kib "$GH_PID")
  say "bench: API scenarios, ${ROUNDS} alternating rounds of ${DURATION}s, ${CONNS} connections"
  : >"$BENCH_DIR/api.results"
  local s name script extra round server base line
  for s in "${SCENARIOS[@]}"; do
    IFS='|' read -r name script extra <<<"$s"
    # warm both (connections, prepared statements, caches)
    run_wrk "$REF" "$script" "$extra" 2 >/dev/null
    run_wrk "$GH" "$script" "$extra" 2 >/dev/null
    for round in $(seq "$ROUNDS"); do
      for server in reference gatehouse; do
        if [ "$server" = reference ]; then base=$REF; else base=$GH; rss_watch_start api; fi
        line=$(run_wrk "$base" "$script" "$extra" "$DURATION")
        if [ "$server" = gatehouse ]; then rss_watch_stop; fi
        echo "$name $server $line" >>"$BENCH_DIR/api.results"
        say "  $name $server round $round: $line"
      done
    done
  done
  RSS_LOAD=$(rss_max api)
  python3 - "$BENCH_DIR/api.results" "$RSS_IDLE" "$RSS_LOAD" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
targets = {"by_id": 0.90, "list_20": 0.90, "list_1000": 1.0, "insert_1": 0.85}
print()
print(f"{'scenario':<14} {'reference req/s':>15} {'gatehouse req/s':>15} {'ratio':>6} {'target':>7}"
      f" {'p50 ref/gh ms':>15} {'p99 ref/gh ms':>15} {'p99 ratio':>9} {'errors ref/gh':>13}")
order = []
for r in rows:
    if r[0] not in order: order.append(r[0])
ok = True
for name in order:
    def med(server, i):
        return statistics.median(float(r[i]) for r in rows if r[0] == name and r[1] == server)
    err_r = sum(int(r[5]) for r in rows if r[0] == name and r[1] == "reference")
    err_g = sum(int(r[5]) for r in rows if r[0] == name and r[1] == "gatehouse")
    rr, gr = med("reference", 2), med("gatehouse", 2)
    p50r, p50g = med("reference", 3), med("gatehouse", 3)
    p99r, p99g = med("reference", 4), med("gatehouse", 4)
    ratio, p99ratio = gr / rr, p99g / p99r
    t = targets.get(name)
    met = (t is None or ratio >= t) and p99ratio <= 1.5 and err_g == 0
    ok &= met
    print(f"{name:<14} {rr:>15.0f} {gr:>15.0f} {ratio:>6.2f} {('>= %.2f' % t) if t else '-':>7}"
          f" {p50r:>7.2f}/{p50g:<7.2f} {p99r:>7.2f}/{p99g:<7.2f} {p99ratio:>9.2f} {err_r:>6}/{err_g:<6}"
          f"  {'ok' if met else 'MISSED'}")
idle, load = int(sys.argv[2]) / 1024, int(sys.argv[3]) / 1024
print(f"\nGatehouse RSS: idle {idle:.1f} MiB (target <= 30), under load {load:.1f} MiB (target <= 100)")
print("targets:", "all met" if ok and idle <= 30 and load <= 100 else "NOT all met")
EOF
}

# --- streaming export --------------------------------------------------------------
bench_export() {
  say "bench: export of $EXPORT_ROWS rows"
  psql_q "$PG_BASE/chinook" -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS export_line" -c "
    CREATE TABLE export_line (
      line_id bigint PRIMARY KEY, invoice_id int NOT NULL, track_id int NOT NULL,
      unit_price numeric(10,2) NOT NULL, quantity int NOT NULL, note varchar(60),
      sold_at timestamp NOT NULL);
    INSERT INTO export_line
      SELECT g, g / 5 + 1, g % 3503 + 1, (g % 200) / 100.0 + 0.99, g % 4 + 1,
             CASE WHEN g % 3 = 0 THEN NULL ELSE 'line, \"' || g || '\"' END,
             timestamp '2020-01-01' + g * interval '1 second'
      FROM generate_series(1, $EXPORT_ROWS) g;" -c "VACUUM ANALYZE export_line"
  admin -X POST "$GH/api/system/service/chinook/_refresh" >/dev/null
  local cols="line_id, invoice_id, track_id, unit_price, quantity, note, sold_at"
  local t0 t1 psql_s csv_s ndjson_s rss0 csv_rss ndjson_rss lines
  timeit() { local a b; a=$(date +%s.%N); "$@"; b=$(date +%s.%N); awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", b - a}'; }
  # warm the table into the cache, then alternate
  psql_q "$PG_BASE/chinook" -c "\\copy (SELECT $cols FROM export_line ORDER BY line_id) to /dev/null csv"
  : >"$BENCH_DIR/export.results"
  local round
  for round in $(seq "$ROUNDS"); do
    # both deliver into a file of the same folder
    psql_s=$(timeit psql_q "$PG_BASE/chinook" -c "\\copy (SELECT $cols FROM export_line ORDER BY line_id) to stdout csv header" -o "$BENCH_DIR/psql.csv")
    rss0=$(rss_kib "$GH_PID"); rss_watch_start export
    csv_s=$(timeit curl -sf -H "X-API-Key: $ADMIN_KEY" -H "Accept: text/csv" \
      -o "$BENCH_DIR/export.csv" "$GH/api/chinook/_table/export_line?order=line_id")
    rss_watch_stop; csv_rss=$(( $(rss_max export) - rss0 ))
    rss0=$(rss_kib "$GH_PID"); rss_watch_start export
    ndjson_s=$(timeit curl -sf -H "X-API-Key: $ADMIN_KEY" -H "Accept: application/x-ndjson" \
      -o "$BENCH_DIR/export.ndjson" "$GH/api/chinook/_table/export_line?order=line_id")
    rss_watch_stop; ndjson_rss=$(( $(rss_max export) - rss0 ))
    lines=$(wc -l <"$BENCH_DIR/psql.csv")
    [ "$lines" = "$((EXPORT_ROWS + 1))" ] || { say "bench: psql wrote $lines lines"; exit 1; }
    lines=$(wc -l <"$BENCH_DIR/export.csv")
    [ "$lines" = "$((EXPORT_ROWS + 1))" ] || { say "bench: csv export has $lines lines"; exit 1; }
    lines=$(wc -l <"$BENCH_DIR/export.ndjson")
    [ "$lines" = "$EXPORT_ROWS" ] || { say "bench: ndjson export has $lines lines"; exit 1; }
    echo "$psql_s $csv_s $ndjson_s $csv_rss $ndjson_rss" >>"$BENCH_DIR/export.results"
    say "  round $round: psql \\copy ${psql_s}s, csv ${csv_s}s (+$(mib "$csv_rss") MiB), ndjson ${ndjson_s}s (+$(mib "$ndjson_rss") MiB)"
  done
  python3 - "$BENCH_DIR/export.results" "$EXPORT_ROWS" <<'EOF'
import statistics, sys
rows = [[float(x) for x in l.split()] for l in open(sys.argv[1])]
med = lambda i: statistics.median(r[i] for r in rows)
psql, csv, nd = med(0), med(1), med(2)
grow = max(max(r[3], r[4]) for r in rows) / 1024
ok = csv <= 1.2 * psql and nd <= 1.2 * psql and grow < 20
print(f"\nexport of {sys.argv[2]} rows: psql \\copy {psql:.2f}s, Gatehouse csv {csv:.2f}s ({csv/psql:.2f}x),"
      f" ndjson {nd:.2f}s ({nd/psql:.2f}x); RSS growth at most {grow:.1f} MiB"
      f"  (targets <= 1.2x, < 20 MiB): {'met' if ok else 'NOT met'}")
EOF
}

# --- big catalog ---------------------------------------------------------------------
bench_catalog() {
  say "bench: catalog of $CATALOG_TABLES tables"
  # introspection is the database's work: here it has every core, as a
  # database server of its own would (pinned, it shares one with the load)
  for pid in "$PG_PID" $(pgrep -P "$PG_PID"); do taskset -pc "0-$(($(nproc) - 1))" "$pid" >/dev/null; done
  psql_q "$PG_URL" -c "CREATE DATABASE wide"
  python3 bench/wide-catalog.py "$CATALOG_TABLES" | psql_q "$PG_BASE/wide" >/dev/null
  psql_q "$PG_BASE/wide" -c "SET client_min_messages = error" -c "ANALYZE"
  local columns
  columns=$(psql_q "$PG_BASE/wide" -At -c "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public'")
  # by-id reads on chinook while the wide database is registered
  (run_wrk "$GH" by_id.lua "" 6 >"$BENCH_DIR/during") &
  local wrk_pid=$! t0 t1
  sleep 1.5
  t0=$(date +%s.%N)
  admin "$GH/api/system/service" -d "{\"name\": \"wide\", \"type\": \"postgres\",
    \"config\": {\"url\": \"$PG_BASE/wide\"}}" >/dev/null
  t1=$(date +%s.%N)
  wait "$wrk_pid"
  local tables
  tables=$(curl -sf -H "X-API-Key: $ADMIN_KEY" "$GH/api/wide/_table" \
    | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["resource"]))')
  local quiet
  quiet=$(run_wrk "$GH" by_id.lua "" 6)
  python3 - "$t0" "$t1" "$tables" "$columns" "$(cat "$BENCH_DIR/during")" "$quiet" <<'EOF'
import sys
t0, t1, tables, columns = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
during, quiet = sys.argv[5].split(), sys.argv[6].split()
secs = t1 - t0
print(f"\ncatalog: registering a service of {tables} tables, {columns} columns took {secs:.2f}s (target < 2 s):"
      f" {'met' if secs < 2 else 'NOT met'}")
print(f"  by-id reads on another service meanwhile: {float(during[0]):.0f} req/s, p99 {float(during[2]):.2f} ms,"
      f" {during[3]} errors; alone: {float(quiet[0]):.0f} req/s, p99 {float(quiet[2]):.2f} ms")
EOF
}

say "bench: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
say "bench: servers on CPU $SERVER_CPU, wrk on CPU $LOAD_CPU, PostgreSQL on CPU $DB_CPU"
case "$WHAT" in
  all) bench_api; bench_export; bench_catalog ;;
  api) bench_api ;;
  export) bench_export ;;
  catalog) bench_catalog ;;
  hold)
    # both servers stay up for another load generator until interrupted
    printf 'reference: %s\ngatehouse: %s\nX-API-Key: %s\nadmin key: %s\n' "$REF" "$GH" "$BENCH_API_KEY" "$ADMIN_KEY"
    while sleep 3600; do :; done ;;
  *) say "usage: bench/run.sh [all|api|export|catalog|hold]"; exit 2 ;;
esac
