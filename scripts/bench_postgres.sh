#!/usr/bin/env bash
# Runs benches/postgres.rs (the whole sale from 1, 8 and 32 callers, shopkeep beside the same SQL
# written by hand) on two throwaway PostgreSQL clusters: one on disk with the server's default
# durability (fsync on, synchronous_commit on), and one on tmpfs, where fsync costs nothing and
# what remains is CPU. Needs PostgreSQL's server binaries (Debian: `apt-get install postgresql`).
#
#   bash scripts/bench_postgres.sh            # SHOPKEEP_BENCH_N, SHOPKEEP_BENCH_ROUNDS pass through
#   SHOPKEEP_BENCH_DISK=/srv/tmp bash scripts/bench_postgres.sh
set -euo pipefail
cd "$(dirname "$0")/.."

pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cargo bench --features postgres --bench postgres --no-run

clusters=()
cleanup() {
  for dir in "${clusters[@]}"; do
    as_postgres "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
  done
}
trap cleanup EXIT

port=54340
for place in disk tmpfs; do
  if [ "$place" = disk ]; then parent=${SHOPKEEP_BENCH_DISK:-/var/tmp}; else parent=/dev/shm; fi
  dir=$(mktemp -d "$parent/shopkeep-bench-pg.XXXXXX")
  clusters+=("$dir")
  [ "$(id -u)" != 0 ] || chown postgres "$dir"
  as_postgres "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust >/dev/null
  # Only what the bench needs changed from the defaults: a socket of its own, no TCP, and room
  # for 32 callers on each side.
  as_postgres "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses='' -c max_connections=120" start >/dev/null
  as_postgres "$pg_bin/createdb" -h "$dir" -p "$port" -U postgres bench
  SHOPKEEP_BENCH_POSTGRES="host=$dir port=$port user=postgres dbname=bench" \
    SHOPKEEP_BENCH_LABEL=$place cargo bench --features postgres --bench postgres
  as_postgres "$pg_bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null
  port=$((port + 1))
done
