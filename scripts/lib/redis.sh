# Sourced by .ci/run: a throwaway Redis server for the tests of the shared rate limits
# and lockout (the Redis counters, a server with several workers on one Redis, an outage).
#
#   . scripts/lib/redis.sh
#   start_redis            # sets ANTI_GRAZER_TEST_REDIS_URL (redis://127.0.0.1:PORT/0), traps EXIT
#   ... use "$ANTI_GRAZER_TEST_REDIS_URL" ...
#   stop_redis             # also run by the EXIT trap; safe to call twice
#
# The server listens on 127.0.0.1 only (on a free port), keeps nothing on disk (no RDB
# snapshot, no append-only file) and lives in a fresh temporary folder, removed when it
# stops.  redis-server is Debian's package, installed with apt-get when missing and
# running as root; otherwise start_redis fails and the tests that need it skip.

. "$(dirname "${BASH_SOURCE[0]}")/free_port.sh"

REDIS_TMP=""

_redis_log() { echo "redis.sh: $*" >&2; }

_redis_install() {
  if [ "$(id -u)" -ne 0 ]; then
    _redis_log "redis-server not found; install Debian's 'redis-server' package"
    return 1
  fi
  _redis_log "installing redis-server with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server \
    </dev/null
  # The package may start its own service on port 6379: we only want the binary.
  if command -v service >/dev/null 2>&1; then
    service redis-server stop >/dev/null 2>&1 || true
  fi
}

start_redis() {
  if ! command -v redis-server >/dev/null 2>&1; then
    _redis_install || return 1
    command -v redis-server >/dev/null 2>&1 || { _redis_log "no redis-server after install"; return 1; }
  fi
  REDIS_TMP="$(mktemp -d /tmp/anti-grazer-redis.XXXXXX)"
  trap stop_redis EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  local attempt port tries
  for attempt in 1 2 3; do
    port="$(free_port)"
    redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
      --dir "$REDIS_TMP" --save '' --appendonly no \
      --daemonize yes --pidfile "$REDIS_TMP/redis.pid" --logfile "$REDIS_TMP/redis.log" || true
    # The daemon answers a moment after it forked.
    for tries in $(seq 1 50); do
      if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
        export ANTI_GRAZER_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
        _redis_log "Redis listening on 127.0.0.1:$port"
        return 0
      fi
      sleep 0.1
    done
    _redis_log "start on port $port failed (attempt $attempt):"
    tail -n 20 "$REDIS_TMP/redis.log" >&2 || true
  done
  return 1
}

stop_redis() {
  [ -n "$REDIS_TMP" ] || return 0
  if [ -f "$REDIS_TMP/redis.pid" ]; then
    local pid
    pid="$(cat "$REDIS_TMP/redis.pid")"
    kill "$pid" 2>/dev/null || true
    local tries
    for tries in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -rf "$REDIS_TMP"
  REDIS_TMP=""
  unset ANTI_GRAZER_TEST_REDIS_URL
}
