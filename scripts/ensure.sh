#!/usr/bin/env bash
# Installs what envctl needs when it is missing, so a fresh clone needs nothing else.
#   scripts/ensure.sh npm          node_modules from package-lock.json, and dist/ compiled from the sources
#   scripts/ensure.sh build        dist/ compiled from the sources (node_modules already there)
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
  ensure_build
}

# dist/ as the sources stand. Compiled files whose source is gone are removed
# (a renamed test must not keep running, nor a removed module ship in the
# package); tsc runs when a source is newer than the last build or has no
# compiled file yet (git mv keeps a file's time). dist/.envctl-build is
# stamped with the time the last good build started, so a source edited
# during a build is compiled next time. A build with nothing to do writes
# nothing, so a test run never rewrites files another run is loading.
ensure_build() {
  local sources outputs
  sources=$(find src test bench -name '*.ts' ! -name '*.d.ts' 2>/dev/null | sed 's/\.ts$//' | sort)
  outputs=$(find dist/src dist/test dist/bench -name '*.js' 2>/dev/null | sed 's|^dist/||; s/\.js$//' | sort)
  local stale
  stale=$(comm -13 <(echo "$sources") <(echo "$outputs") | sed '/^$/d')
  if [ -n "$stale" ]; then
    echo "envctl: removing compiled files without a source: $(echo "$stale" | sed 's|$|.js|' | tr '\n' ' ')" >&2
    while read -r f; do rm -f "dist/$f.js" "dist/$f.js.map" "dist/$f.d.ts" "dist/$f.d.ts.map"; done <<<"$stale"
  fi
  for f in dist/schemas/*.json; do
    if [ -e "$f" ] && [ ! -e "schemas/${f#dist/schemas/}" ]; then rm -f "$f"; fi
  done
  local stamp=dist/.envctl-build
  if [ ! -f "$stamp" ] || [ -n "$(comm -23 <(echo "$sources") <(echo "$outputs") | sed '/^$/d')" ] \
    || [ -n "$(find src test bench schemas tsconfig.json package.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    mkdir -p dist
    local started
    started=$(mktemp dist/.envctl-build.XXXXXX)
    npx tsc -p . || { rm -f "$started"; return 1; }
    mv "$started" "$stamp"
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
  build) ensure_build ;;
  apt) ensure_apt "$@" ;;
  *) echo "usage: scripts/ensure.sh npm | build | apt PKG…" >&2; exit 2 ;;
esac
