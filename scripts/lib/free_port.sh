# Sourced by scripts/lib/postgres.sh and scripts/lib/redis.sh: a TCP port free on
# 127.0.0.1 right now, for a throwaway server of the tests.
#
#   port="$(free_port)"

free_port() {
  local python="${PYTHON:-python3}"
  "$python" - <<'PY'
import socket

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
}
