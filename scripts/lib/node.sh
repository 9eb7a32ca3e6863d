# Sourced by scripts/check: node and npm for the cross-language check (node's jose
# verifies our JWT access tokens, tests/e2e/test_jwt_interop.py; the test installs its
# locked dependencies with npm ci).  Installed with apt-get (Debian's nodejs and npm) when
# missing and running as root; otherwise those tests skip themselves and say why.
ensure_node() {
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's nodejs and npm for the node jose check"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq nodejs npm >/dev/null \
      || echo "could not install node: the node jose tests will be skipped" >&2
  else
    echo "node is missing (install Debian's nodejs and npm): the node jose tests will be skipped" >&2
  fi
}
