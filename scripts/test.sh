#!/usr/bin/env bash
# The test suite, after installing what it needs.
#   scripts/test.sh             every test (npm test)
#   scripts/test.sh --unit      the pure tests only (npm run test:unit): no Debian package installed or used
#   scripts/test.sh FILE…       those test files alone: test/x.test.ts, x.test.ts or dist/test/x.test.js
#                               (npm test -- test/sync.builder.test.ts); with --unit, pure ones only
# Other arguments go to mocha (--grep TEXT, --bail). Only compiled tests that
# have a source in test/ run, and dist/ is brought up to date first.
#
# What a test needs is in its file name:
#   *.builder.test.ts   buildah, runc, docker-registry, busybox-static, debootstrap, gcc (builds into a local registry)
#   *.browser.test.ts   Chromium too (the catalog site in headless Chromium)
#   *.npm.test.ts       npm pack and npm install (from the npm cache, else the registry)
#   any other           pure: node, git, and loopback servers the test starts itself
set -euo pipefail
cd "$(dirname "$0")/.."

unit=false
named=()
mocha_args=()
for arg in "$@"; do
  case "$arg" in
    --unit) unit=true ;;
    *.test.ts | *.test.js) named+=("$arg") ;;
    *) mocha_args+=("$arg") ;;
  esac
done

kind() {
  case "$1" in
    *.builder.test.ts) echo builder ;;
    *.browser.test.ts) echo browser ;;
    *.npm.test.ts) echo npm ;;
    *) echo pure ;;
  esac
}

# The source of a named test: test/x.test.ts for x.test.ts, test/x.test.ts or dist/test/x.test.js.
source_of() {
  local p=${1#./}
  p=${p#dist/}
  p=${p#test/}
  p=${p%.js}
  p=${p%.ts}
  echo "test/$p.ts"
}

selected=()
if [ ${#named[@]} -gt 0 ]; then
  for arg in "${named[@]}"; do
    src=$(source_of "$arg")
    [ -f "$src" ] || { echo "envctl tests: no test $arg (no $src)" >&2; exit 2; }
    if $unit && [ "$(kind "$src")" != pure ]; then
      echo "envctl tests: $src is a $(kind "$src") test, not a pure one; run it with: npm test -- $src" >&2
      exit 2
    fi
    selected+=("$src")
  done
else
  while read -r src; do
    if ! $unit || [ "$(kind "$src")" = pure ]; then selected+=("$src"); fi
  done < <(find test -name '*.test.ts' ! -path 'test/fixtures/*' | sort)
fi

# Debian packages for the kinds selected.
apt=()
for src in "${selected[@]}"; do
  case "$(kind "$src")" in
    builder) apt+=(buildah runc uidmap slirp4netns fuse-overlayfs docker-registry busybox-static debootstrap gcc libc6-dev) ;;
    browser) apt+=(buildah runc docker-registry busybox-static chromium) ;;
  esac
done

bash scripts/ensure.sh npm
if [ ${#apt[@]} -gt 0 ]; then
  # Builds in tests use real buildah, a real registry and a busybox base made locally;
  # the catalog site is opened in headless Chromium.
  bash scripts/ensure.sh apt $(printf '%s\n' "${apt[@]}" | sort -u)
fi

compiled=()
for src in "${selected[@]}"; do
  js="dist/${src%.ts}.js"
  [ -f "$js" ] || { echo "envctl tests: $src was not compiled to $js" >&2; exit 1; }
  compiled+=("$js")
done
exec npx mocha ${mocha_args[@]+"${mocha_args[@]}"} "${compiled[@]}"
