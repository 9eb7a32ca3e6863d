# Sourced by scripts/check: Debian's Chromium for the browser test (Playwright drives it
# with executable_path; no browser download).  Installed with apt-get when missing and
# running as root; otherwise the browser test skips itself and says why.
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's chromium for the browser test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null \
      || echo "could not install chromium: the browser test will be skipped" >&2
  else
    echo "chromium is missing (install Debian's chromium): the browser test will be skipped" >&2
  fi
}
