#!/usr/bin/env bash
# A private PostgreSQL server for the tests: `pg_server.sh start DIR` creates
# a cluster in DIR/data (initdb) and starts it listening only on a Unix
# socket in DIR (no TCP), trusting local connections of the role `hatc`;
# `pg_server.sh stop DIR` stops it (fast shutdown) and removes DIR;
# `pg_server.sh restart DIR [SECONDS]` stops the same cluster, leaves it down
# for SECONDS (default 0), and starts it again (data kept).
# PostgreSQL refuses to run as root: as root the server runs as the
# `postgres` system user (Debian's package creates it).
#
# Prints nothing on success but the admin URL on `start`:
#   postgresql://hatc@/postgres?host=DIR
set -euo pipefail

cmd=${1:?usage: pg_server.sh start|stop|restart DIR [SECONDS]}
dir=${2:?usage: pg_server.sh start|stop|restart DIR [SECONDS]}

bindir=${HATC_PG_BINDIR:-}
if [[ -z $bindir ]]; then
  for candidate in /usr/lib/postgresql/*/bin; do
    [[ -x $candidate/pg_ctl ]] && bindir=$candidate
  done
fi
if [[ -z $bindir || ! -x $bindir/pg_ctl ]]; then
  echo "pg_server.sh: no PostgreSQL server binaries (install Debian's postgresql: scripts/deps.sh)" >&2
  exit 1
fi

as_server_user() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop_server() {
  if [[ -f $dir/data/postmaster.pid ]]; then
    # -w with a timeout: never an unbounded wait; immediate if fast fails.
    as_server_user "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      as_server_user "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
}

start_server() {
  if ! as_server_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c max_connections=100" \
      start >/dev/null; then
    echo "pg_server.sh: the server in $dir did not start; its log:" >&2
    cat "$dir/server.log" >&2 || true
    exit 1
  fi
}

case $cmd in
start)
  # A server left by an earlier run that was killed: stop it first.
  stop_server
  rm -rf "$dir"
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
  chmod 700 "$dir"
  as_server_user "$bindir/initdb" -D "$dir/data" -U hatc --auth=trust -E UTF8 \
    --locale=C >"$dir/initdb.log" 2>&1 || {
    echo "pg_server.sh: initdb failed in $dir:" >&2
    cat "$dir/initdb.log" >&2
    exit 1
  }
  start_server
  # Root's tests connect through the socket; let them in to the folder.
  chmod 711 "$dir"
  echo "postgresql://hatc@/postgres?host=$dir"
  ;;
stop)
  stop_server
  rm -rf "$dir"
  ;;
restart)
  stop_server
  sleep "${3:-0}"
  start_server
  ;;
*)
  echo "pg_server.sh: unknown command '$cmd' (start, stop or restart)" >&2
  exit 64
  ;;
esac
