#!/usr/bin/env bash
# The test suite, after installing what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure.sh npm
# Builds in tests use real buildah, a real registry and a busybox base made locally;
# the catalog site is opened in headless Chromium.
bash scripts/ensure.sh apt buildah docker-registry busybox-static debootstrap chromium
npx tsc -p .
npx mocha "$@"
