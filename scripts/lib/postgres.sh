# Sourced by .ci/run: a throwaway PostgreSQL server for the test suite's PostgreSQL pass.
#
#   . scripts/lib/postgres.sh
#   start_postgres            # sets ANTI_GRAZER_PG_URL (postgresql+asyncpg://...), traps EXIT
#   ... use "$ANTI_GRAZER_PG_URL" ...
#   stop_postgres             # also run by the EXIT trap; safe to call twice
#
# The server lives in a fresh temporary folder, listens on 127.0.0.1 only (on a free port),
# keeps its unix socket inside that folder, requires a random password over TCP, and runs
# with fsync off (its data is thrown away).  As root it runs as the ``postgres`` system user
# (or ``nobody``); the binaries come from /usr/lib/postgresql/*/bin (or $PG_BIN), installed
# with apt-get when missing and running as root.

. "$(dirname "${BASH_SOURCE[0]}")/free_port.sh"

PG_TMP=""
PG_DATA=""
PG_RUN_AS=""

_pg_log() { echo "postgres.sh: $*" >&2; }

# Print the folder holding initdb/pg_ctl: $PG_BIN, the newest /usr/lib/postgresql/*/bin, or PATH.
_pg_find_bin() {
  if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/pg_ctl" ]; then
    echo "$PG_BIN"
    return 0
  fi
  local dir
  dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then
    echo "$dir"
    return 0
  fi
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return 0
  fi
  return 1
}

_pg_install() {
  if [ "$(id -u)" -ne 0 ]; then
    _pg_log "PostgreSQL server binaries not found; install the 'postgresql' package (or set PG_BIN)"
    return 1
  fi
  _pg_log "installing PostgreSQL with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql </dev/null
  # The package creates and may start a "main" cluster on port 5432: we only want the
  # binaries, so stop what the installation just started.
  if command -v pg_lsclusters >/dev/null 2>&1; then
    local version name _rest
    while read -r version name _rest; do
      pg_ctlcluster "$version" "$name" stop >/dev/null 2>&1 || true
    done < <(pg_lsclusters --no-header 2>/dev/null)
  fi
}

# Run a command as the server's user (root may not run PostgreSQL), from the temp folder.
_pg_run() {
  if [ -n "$PG_RUN_AS" ]; then
    (cd "$PG_TMP" && runuser -u "$PG_RUN_AS" -- "$@")
  else
    (cd "$PG_TMP" && "$@")
  fi
}

start_postgres() {
  local bin
  if ! bin="$(_pg_find_bin)"; then
    _pg_install || return 1
    bin="$(_pg_find_bin)" || { _pg_log "no PostgreSQL binaries after install"; return 1; }
  fi

  PG_TMP="$(mktemp -d /tmp/anti-grazer-pg.XXXXXX)"
  PG_DATA="$PG_TMP/data"
  trap stop_postgres EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  PG_RUN_AS=""
  if [ "$(id -u)" -eq 0 ]; then
    if id -u postgres >/dev/null 2>&1; then PG_RUN_AS=postgres; else PG_RUN_AS=nobody; fi
    chown "$PG_RUN_AS" "$PG_TMP"
  fi

  local password port user=anti_grazer database=anti_grazer_test
  password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  printf '%s\n' "$password" >"$PG_TMP/pwfile"
  chmod 600 "$PG_TMP/pwfile"
  [ -z "$PG_RUN_AS" ] || chown "$PG_RUN_AS" "$PG_TMP/pwfile"

  _pg_log "initdb in $PG_DATA (binaries: $bin${PG_RUN_AS:+, user: $PG_RUN_AS})"
  if ! _pg_run "$bin/initdb" --pgdata="$PG_DATA" --username="$user" --pwfile="$PG_TMP/pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
      --no-sync >"$PG_TMP/initdb.log" 2>&1; then
    cat "$PG_TMP/initdb.log" >&2
    return 1
  fi
  rm -f "$PG_TMP/pwfile"

  local attempt
  for attempt in 1 2 3; do
    port="$(free_port)"
    if _pg_run "$bin/pg_ctl" --pgdata="$PG_DATA" --log="$PG_TMP/server.log" --wait --timeout=60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$PG_TMP" \
        -o "-c fsync=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null; then
      break
    fi
    _pg_log "start on port $port failed (attempt $attempt):"
    tail -n 20 "$PG_TMP/server.log" >&2 || true
    [ "$attempt" -lt 3 ] || return 1
  done

  _pg_run "$bin/createdb" --host="$PG_TMP" --port="$port" --username="$user" "$database"

  export ANTI_GRAZER_PG_URL="postgresql+asyncpg://$user:$password@127.0.0.1:$port/$database"
  _pg_log "PostgreSQL listening on 127.0.0.1:$port, database $database"
}

stop_postgres() {
  [ -n "$PG_TMP" ] || return 0
  local bin
  if [ -f "$PG_DATA/postmaster.pid" ] && bin="$(_pg_find_bin)"; then
    _pg_run "$bin/pg_ctl" --pgdata="$PG_DATA" --mode=fast --wait --timeout=60 stop >/dev/null \
      || _pg_log "pg_ctl stop failed; see $PG_TMP/server.log"
  fi
  rm -rf "$PG_TMP"
  PG_TMP=""
  PG_DATA=""
  unset ANTI_GRAZER_PG_URL
}
