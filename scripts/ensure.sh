#!/usr/bin/env bash
# Installs what envctl needs when it is missing, so a fresh clone needs nothing else.
#   scripts/ensure.sh npm          node_modules from package-lock.json (and the compiled dist/)
#   scripts/ensure.sh apt PKG…     Debian packages, after one apt-get update
set -euo pipefail
cd "$(dirname "$0")/.."

ensure_npm() {
  local stamp=node_modules/.envctl-lock
  if [ ! -d node_modules ] || ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
    echo "envctl: installing npm packages (npm ci)" >&2
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
  fi
  # dist/ is built by npm ci's prepare step; rebuild when a source is newer.
  if [ ! -f dist/src/cli/main.js ] || [ -n "$(find src schemas -newer dist/src/cli/main.js -print -quit)" ]; then
    npx tsc -p .
  fi
}

ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "envctl: needs Debian packages ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "envctl: installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

what=${1:-npm}
shift || true
case "$what" in
  npm) ensure_npm ;;
  apt) ensure_apt "$@" ;;
  *) echo "usage: scripts/ensure.sh npm | apt PKG…" >&2; exit 2 ;;
esac
